"""The render layer: results and explanations as text, markdown, html and json. Imports core and explain."""
