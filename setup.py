"""What ``pip install`` compiles, all of it optional: where it cannot be built (no C
compiler, no Python headers, no Cython) the install goes on without it and ``dedup`` runs
the same code in pure Python, with the same answers.

- ``dedup/_speedups.c``: the kernels, each with a pure-Python twin (``dedup/native.py``).
- The modules of the pipeline's hot stages (``CYTHONIZED``), compiled by Cython from their
  unchanged sources, no annotation trusted; ``dedup/_compiled.txt`` lists them with a
  checksum of each source, so that an edited module runs from its source until it is
  built again (``dedup/compiled.py``).
"""

import os
import zlib

from setuptools import Extension, setup

#: Where the time of a run goes in Python: stages from the text to the decisions.
CYTHONIZED = [
    "normalize",
    "shingles",
    "fingerprint",
    "paragraphs",
    "shapes",
    "verify",
    "stream",
    "deduplicator",
    "index/base",
    "index/memory",
]


def _cythonized() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    sources = [f"dedup/{name}.py" for name in CYTHONIZED]
    modules = cythonize(
        sources,
        build_dir="build/cython",
        quiet=True,
        compiler_directives={
            "language_level": 3,
            "binding": True,  # functions as Python has them: signatures, pickling by name
            "annotation_typing": False,  # an annotation is not a C type
        },
    )
    for module in modules:
        module.optional = True
    with open(os.path.join("dedup", "_compiled.txt"), "w", encoding="ascii") as manifest:
        for name, source in zip(CYTHONIZED, sources, strict=True):
            with open(source, "rb") as handle:
                crc = zlib.crc32(handle.read())
            manifest.write(f"dedup.{name.replace('/', '.')} {crc}\n")
    return modules


setup(
    ext_modules=[
        Extension(
            "dedup._speedups",
            ["dedup/_speedups.c"],
            depends=["dedup/xxhash.h"],
            optional=True,
            extra_compile_args=["-O3"],
        ),
        *_cythonized(),
    ],
    # Cython's modules take minutes of one core to compile: all of them at once.
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
)
