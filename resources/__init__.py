"""Inkwell's resources, installed as the package data `desktop_app.resources` (see setup.py).

Read them through desktop_app.core.paths.resources_dir(); this file only makes the folder
a package that importlib.resources can find in every kind of install.
"""
