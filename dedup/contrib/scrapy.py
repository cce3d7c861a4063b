"""A Scrapy item pipeline that removes repeated paragraphs from items' text fields.

In ``settings.py``::

    ITEM_PIPELINES = {"dedup.contrib.scrapy.DedupPipeline": 800}  # last, or late
    DEDUP_FIELDS = ["body"]          # str fields, or lists of str (one paragraph each)
    DEDUP_INDEX = "site.dedup"       # an index on disk shared by tomorrow's crawl; "" = memory

Settings (all optional): ``DEDUP_FIELDS`` (``["text"]``); ``DEDUP_INDEX`` (none: in
memory for this crawl); ``DEDUP_SCOPE``, ``"corpus"`` (repeats across items, the default)
or ``"document"`` (within each item only); ``DEDUP_PRESET`` (``"strict"``, ``"lenient"``),
``DEDUP_THRESHOLD``, ``DEDUP_CONTAINMENT``, ``DEDUP_SPLIT``; ``DEDUP_ID_FIELD`` (``"url"``:
the field that names an item in removals); ``DEDUP_REMOVALS_FIELD`` (``"dedup"``: where the
removals go on the item, ``""`` for nowhere; a ``scrapy.Item`` must declare it).

Each text field is cleaned as a document named ``ID#FIELD``; in a list, each string is a
paragraph, and one that repeats an earlier paragraph leaves the list. The item is never
dropped, only its repeated paragraphs. What an item kept enters a persistent index when the
item has passed every pipeline (Scrapy's ``item_scraped``): put this pipeline last, since the
paragraphs of an item dropped by a later pipeline (or one that fails on it) would enter it
with the next item's, which the log says once.
Scrapy's stats get ``dedup/items``, ``dedup/paragraphs``, ``dedup/removed`` and
``dedup/removed/KIND``.
"""

from __future__ import annotations

from typing import Any

try:
    from itemadapter import ItemAdapter
    from scrapy import signals
except ImportError as error:  # pragma: no cover - the extra is missing
    raise ImportError(
        'dedup.contrib.scrapy needs Scrapy: pip install "paradedup[scrapy]"'
    ) from error

from dedup.config import Config
from dedup.deduplicator import Deduplicator
from dedup.errors import ConfigError


class DedupPipeline:
    """See the module's docstring."""

    def __init__(
        self,
        config: Config,
        *,
        fields: list[str],
        index: str | None = None,
        scope: str = "corpus",
        id_field: str = "url",
        removals_field: str = "dedup",
        stats: Any = None,
    ) -> None:
        if scope not in ("corpus", "document"):
            raise ConfigError(f"DEDUP_SCOPE must be 'corpus' or 'document', not {scope!r}")
        if index and scope != "corpus":
            raise ConfigError("DEDUP_INDEX holds paragraphs across items: DEDUP_SCOPE 'corpus'")
        self.config, self.fields, self.index, self.scope = config, fields, index or None, scope
        self.id_field, self.removals_field, self.stats = id_field, removals_field, stats
        self._dedup: Deduplicator | None = None
        self._items = 0
        self._names: set[str] = set()  # every item's, so that no two items share one
        self._warned = False
        self._passing: set[int] = set()  # items cleaned here, not yet scraped nor lost
        self._lost_told: set[str] = set()  # how items were lost after this pipeline, told

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupPipeline:
        settings = crawler.settings
        overrides = {
            name: settings.get(f"DEDUP_{name.upper()}")
            for name in ("threshold", "containment", "split")
            if settings.get(f"DEDUP_{name.upper()}") is not None
        }
        for name in ("threshold", "containment"):
            if name in overrides:
                overrides[name] = float(overrides[name])
        config = Config.preset(settings.get("DEDUP_PRESET") or "default", **overrides)
        pipeline = cls(
            config,
            fields=list(settings.getlist("DEDUP_FIELDS", ["text"])),
            index=settings.get("DEDUP_INDEX") or None,
            scope=settings.get("DEDUP_SCOPE", "corpus"),
            id_field=settings.get("DEDUP_ID_FIELD", "url"),
            removals_field=settings.get("DEDUP_REMOVALS_FIELD", "dedup"),
            stats=crawler.stats,
        )
        crawler.signals.connect(pipeline.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        self._dedup = Deduplicator(self.config, index=self.index)

    def close_spider(self, spider: Any = None) -> None:
        if self._dedup is not None:
            self._dedup.close()  # what passed was committed as it passed
            self._dedup = None

    def item_scraped(self, item: Any = None, response: Any = None, spider: Any = None) -> None:
        """The item passed every pipeline: what it kept enters the index for good."""
        self._passing.discard(id(item))
        if self._dedup is not None:
            self._dedup.commit()

    def item_dropped(self, item: Any = None, **_: Any) -> None:
        """A pipeline after this one dropped an item cleaned here: what it kept stays in
        the index (removed from later items as their copies' first), which is said once."""
        self._lost(item, "dropped", "drops items")

    def item_error(self, item: Any = None, **_: Any) -> None:
        """A pipeline after this one raised an error on an item cleaned here: as
        :meth:`item_dropped`."""
        self._lost(item, "failed on", "may fail")

    def _lost(self, item: Any, how: str, which: str) -> None:
        if id(item) not in self._passing:
            return  # lost before it came here, or here
        self._passing.discard(id(item))
        if how not in self._lost_told:
            self._lost_told.add(how)
            import logging

            logging.getLogger(__name__).warning(
                f"dedup: a pipeline after DedupPipeline {how} an item it had cleaned: the "
                "paragraphs that item kept stay in the index, and their copies in later items "
                f"are removed; put DedupPipeline after every pipeline that {which}"
            )

    def process_item(self, item: Any, spider: Any = None) -> Any:
        assert self._dedup is not None, "open_spider() was not called"
        adapter = ItemAdapter(item)
        self._items += 1
        name = self._name(str(adapter.get(self.id_field) or f"item-{self._items}"))
        dedup = self._dedup if self.scope == "corpus" else Deduplicator(self.config)
        removals: dict[str, list[dict[str, Any]]] = {}
        for field in self.fields:
            value = adapter.get(field)
            if isinstance(value, str):
                result = dedup.clean(value, f"{name}#{field}")
                adapter[field] = result.text
                self._count(len(result.paragraphs), result.removed)
                removals[field] = [r.to_dict() for r in result.removed]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                adapter[field], removals[field] = self._clean_list(dedup, value, f"{name}#{field}")
        if self.scope == "document":
            dedup.close()
        self._put_removals(adapter, removals)
        if self.stats is not None:
            self.stats.inc_value("dedup/items")
        if self.scope == "corpus":
            self._passing.add(id(item))
        return item

    def _name(self, given: str) -> str:
        """An item's name in removals: its id, or where an earlier item had that id (a
        page crawled twice), the id and the first free number: ``url (2)``."""
        name, number = given, 1
        while name in self._names:
            number += 1
            name = f"{given} ({number})"
        self._names.add(name)
        return name

    def _clean_list(
        self, dedup: Deduplicator, paragraphs: list[str], name: str
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """Each string a paragraph (a line break inside one does not split it)."""
        kept, removals = [], []
        for number, text in enumerate(paragraphs):
            flat = " ".join(text.split())
            result = dedup.clean(flat, f"{name}[{number}]")
            if result.removed and not result.text.strip():
                removal = result.removed[0].to_dict()
                removal.update(index=number, text=text)
                removals.append(removal)
            else:
                kept.append(text)
            self._count(1 if flat else 0, result.removed[:1])
        return kept, removals

    def _count(self, paragraphs: int, removed: Any) -> None:
        if self.stats is None:
            return
        self.stats.inc_value("dedup/paragraphs", paragraphs)
        self.stats.inc_value("dedup/removed", len(removed))
        for removal in removed:
            self.stats.inc_value(f"dedup/removed/{removal.kind}")

    def _put_removals(self, adapter: Any, removals: dict[str, list[dict[str, Any]]]) -> None:
        if not self.removals_field:
            return
        value = {"removed": sum(map(len, removals.values())), "removals": removals}
        try:
            adapter[self.removals_field] = value
        except KeyError:  # a scrapy.Item that does not declare the field
            if not self._warned:
                self._warned = True
                import logging

                logging.getLogger(__name__).warning(
                    "dedup: the item class has no field %r for the removals: declare it, "
                    "or set DEDUP_REMOVALS_FIELD = ''",
                    self.removals_field,
                )
