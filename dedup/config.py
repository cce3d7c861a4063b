"""The frozen settings every stage reads, with their documented defaults."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from dedup.errors import ConfigError

SplitMode = Literal["auto", "lines", "blank"]
SPLIT_MODES: tuple[SplitMode, ...] = ("auto", "lines", "blank")

#: Bumped whenever normalization, tokenizing or hashing changes the shingles a text gets,
#: so that an index built by an older version is refused instead of silently misused.
FINGERPRINT_VERSION = 2


#: Named sets of settings for users who want fewer (strict) or more (lenient) removals;
#: each is measured on the labelled pairs in benchmarks/RESULTS.md.
PRESETS: dict[str, dict[str, Any]] = {
    "strict": {"threshold": 0.9, "containment": 0.9},
    "default": {},
    "lenient": {"threshold": 0.6, "containment": 0.6},
}


@dataclass(frozen=True)
class Config:
    """Settings for splitting, fingerprinting and deciding what repeats.

    split:
        How a text is cut into paragraphs. ``"auto"`` (default) uses blank-line blocks when
        the text has any blank line between two non-blank ones, else one paragraph per line;
        ``"lines"`` makes every non-blank line a paragraph; ``"blank"`` makes every block of
        non-blank lines one paragraph.
    threshold:
        Jaccard similarity of the word-shingle sets (default 0.8) at or above which a later
        paragraph, trimmed at its ends, is a near copy of an earlier kept one, provided it
        adds no information of its own (see ``dedup.verify``).
    containment:
        Share of a later, shorter paragraph's shingles found in an earlier kept one
        (default 0.8) at or above which it is a cut-off copy, excerpt or pull-quote.
    shingle_size:
        Tokens per shingle (default 3). Words for spaced scripts; characters for Chinese,
        Japanese, Thai, Lao, Khmer and Burmese, which are written without spaces.
    min_tokens:
        Paragraphs with fewer tokens than this (default 8) are too short to compare
        fairly by shingles: they are removed when equal to an earlier one after
        normalization, when they are it with one word in front (an agency tag), when they
        are its start cut off with an ellipsis, or (from six words, without numbers) one
        word apart from it; never as an excerpt of a longer paragraph.
    num_perm:
        MinHash permutations (default 128).
    seed:
        Seed of the MinHash permutations (default 1), as in ``datasketch.MinHash``.

    The LSH index is tuned to find candidates at a Jaccard of 0.5 (or ``threshold``, when
    lower): candidates are verified exactly, and a copy one word apart from a short
    paragraph has a Jaccard well below 0.8.
    """

    split: SplitMode = "auto"
    threshold: float = 0.8
    containment: float = 0.8
    shingle_size: int = 3
    min_tokens: int = 8
    num_perm: int = 128
    seed: int = 1

    def __post_init__(self) -> None:
        if self.split not in SPLIT_MODES:
            raise ConfigError(f"split must be one of {', '.join(SPLIT_MODES)}, got {self.split!r}")
        for name in ("threshold", "containment"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
                raise ConfigError(f"{name} must be a number in (0, 1], got {value!r}")
        for name, low in (("shingle_size", 1), ("num_perm", 2), ("seed", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        if self.seed >= 1 << 32:
            raise ConfigError(f"seed must be below 2**32 (as in datasketch), got {self.seed!r}")
        if not isinstance(self.min_tokens, int) or self.min_tokens < self.shingle_size:
            raise ConfigError(
                f"min_tokens must be an integer >= shingle_size ({self.shingle_size}), "
                f"got {self.min_tokens!r}: a paragraph shorter than one shingle has none"
            )

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> Config:
        """The settings of a named preset (``strict``, ``default``, ``lenient``), overridden.

        >>> Config.preset("strict").threshold, Config.preset("strict", threshold=0.85).threshold
        (0.9, 0.85)
        """
        if name not in PRESETS:
            raise ConfigError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
        return cls.make(cls(**PRESETS[name]), **overrides)

    @classmethod
    def make(cls, config: Config | None = None, **overrides: Any) -> Config:
        """Return ``config`` (or the defaults) with ``overrides`` applied and validated.

        >>> Config.make(threshold=0.9).threshold
        0.9
        >>> Config.make(treshold=0.9)
        Traceback (most recent call last):
        ...
        dedup.errors.ConfigError: unknown setting 'treshold'; known settings: split, \
threshold, containment, shingle_size, min_tokens, num_perm, seed
        """
        base = config if config is not None else cls()
        names = [f.name for f in dataclasses.fields(cls)]
        for key in overrides:
            if key not in names:
                raise ConfigError(f"unknown setting {key!r}; known settings: {', '.join(names)}")
        given = {key: value for key, value in overrides.items() if value is not None}
        return dataclasses.replace(base, **given) if given else base

    @property
    def lsh_threshold(self) -> float:
        """The Jaccard level the LSH index finds candidates at."""
        return min(0.5, self.threshold)

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict, in field order (for reports)."""
        return dataclasses.asdict(self)

    def index_name(self) -> str:
        """The settings that decide what an index holds; an index records and checks them.

        >>> Config().index_name()
        'dedup-index fingerprint=2 shingle_size=3 min_tokens=8 num_perm=128 seed=1 lsh=0.5'
        """
        return (
            f"dedup-index fingerprint={FINGERPRINT_VERSION} shingle_size={self.shingle_size} "
            f"min_tokens={self.min_tokens} num_perm={self.num_perm} seed={self.seed} "
            f"lsh={self.lsh_threshold}"
        )
