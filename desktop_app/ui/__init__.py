"""All of Inkwell's Qt code lives in this package."""
