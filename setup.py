"""The compiled kernels (``dedup/_speedups.c``) are optional: where they cannot be built
(no C compiler, no Python headers) the install goes on without them and ``dedup`` uses
their pure-Python twins, which give the same answers (see ``dedup/native.py``)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "dedup._speedups",
            ["dedup/_speedups.c"],
            depends=["dedup/xxhash.h"],
            optional=True,
            extra_compile_args=["-O3"],
        )
    ]
)
