"""Which packages the distribution holds; everything else is in pyproject.toml.

desktop_app's packages are found on disk, and resources/ (where it stays, at the top of the
checkout) is installed inside them as desktop_app.resources, so a wheel carries its
resources and importlib.resources finds them. pyproject.toml cannot map a folder to a
package and still discover the others, hence this file.
"""

from setuptools import find_namespace_packages, find_packages, setup

RESOURCES = ["desktop_app.resources", *(f"desktop_app.resources.{p}" for p in find_namespace_packages("resources"))]

setup(
    packages=[*find_packages(include=["desktop_app", "desktop_app.*"]), *RESOURCES],
    package_dir={"desktop_app.resources": "resources"},
    package_data={package: ["*"] for package in RESOURCES},
)
