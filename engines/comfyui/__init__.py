"""The ComfyUI engine: see README.md in this folder."""
