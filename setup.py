"""Which packages the distribution holds; everything else is in pyproject.toml.

desktop_app's packages are found on disk, and resources/ (where it stays, at the top of the
checkout) is installed inside them as desktop_app.resources, so a wheel carries its
resources and importlib.resources finds them. pyproject.toml cannot map a folder to a
package and still discover the others, hence this file.
"""

from setuptools import Extension, find_namespace_packages, find_packages, setup
from setuptools.command.build_ext import build_ext

RESOURCES = ["desktop_app.resources", *(f"desktop_app.resources.{p}" for p in find_namespace_packages("resources"))]

# Inkwell's ONNX Runtime operators on GGUF's own blocks (desktop_app/engine/ggml_ops.py). A
# plain C++ library that ONNX Runtime loads by its path; optional: where no compiler is
# found, GGUF imports use ONNX Runtime's own 4/8-bit product instead.
GGML_OPS = Extension(
    "desktop_app.engine._ggml_ops",
    sources=[
        "desktop_app/engine/native/ggml_ops.cpp",
        "desktop_app/engine/native/ggml_kernels.cpp",
        "desktop_app/engine/native/ggml_blocks32.cpp",
        "desktop_app/engine/native/ggml_floats.cpp",
        "desktop_app/engine/native/ggml_attention.cpp",
        "desktop_app/engine/native/ggml_repacked.cpp",
    ],
    depends=[f"desktop_app/engine/native/{h}" for h in ("ggml_kernels.h", "ggml_simd.h", "ort_abi.h", "ggml_attention.h")],
    language="c++",
    optional=True,
)

# Flags by compiler: GCC and clang take the AVX2 kernels through target attributes (chosen
# at run time); MSVC builds the portable path.
FLAGS = {"msvc": ["/O2", "/std:c++17", "/EHsc"]}
GNU_FLAGS = ["-O3", "-std=c++17", "-fvisibility=hidden"]


class BuildWithFlags(build_ext):
    def build_extensions(self) -> None:
        flags = FLAGS.get(self.compiler.compiler_type, GNU_FLAGS)
        for extension in self.extensions:
            extension.extra_compile_args = flags
        super().build_extensions()


setup(
    ext_modules=[GGML_OPS],
    cmdclass={"build_ext": BuildWithFlags},
    packages=[*find_packages(include=["desktop_app", "desktop_app.*"]), *RESOURCES],
    package_dir={"desktop_app.resources": "resources"},
    package_data={package: ["*"] for package in RESOURCES},
    # Data is what package_data names (desktop_app's packages hold only Python): the
    # operators' C++ sources build the library above, and the wheel carries the library, not
    # them (as data of a folder that is no package, setuptools warned about them).
    include_package_data=False,
)
