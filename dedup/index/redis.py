"""An index shared through a Redis server by many processes and machines.

``redis://[:password@]host:port/db?namespace=NAME&timeout=SECONDS`` (or ``rediss://``).
Everything lives under the namespace (``dedup`` by default), which holds one set of
settings: ``NAME:settings``, ``NAME:format``, ``NAME:created``, ``NAME:paragraphs``,
``NAME:documents`` (the set of document names) and ``NAME:segments``, a list of
immutable segments: what one process kept between two commits, as the memory index's own
arrays (the format of the index on disk, ids counted from the segment's start).

Each process keeps a replica in memory: it reads the segments it has not seen before each
document (one round trip, or pieces of :data:`READ_BYTES` when there are many; never its
own), looks every batch's keys up locally (no round trip at all), and
at :meth:`RedisIndex.commit` appends what it kept since the last commit as one segment
(several of at most :data:`SEGMENT_BYTES` where it is larger), atomically with the counts
(one round trip). So nothing enters the index before its document was delivered, a
process killed at any moment has added exactly what it committed, and two processes that
meet the same new paragraph at the same time may both keep it, never both drop it: each
sees the other's paragraphs from its next document on.
Every process holds the whole index in memory (about 400 bytes a paragraph, as the memory
index), and Redis holds the segments (about as much).
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.parse
from typing import Any

import numpy as np
import numpy.typing as npt

from dedup.config import Config
from dedup.errors import ConfigError, IndexAccessError
from dedup.index.memory import MemoryIndex

FORMAT = 1
DEFAULT_NAMESPACE = "dedup"
DEFAULT_TIMEOUT = 10.0
#: The most a segment holds, in bytes: a commit of more is cut into several segments (in
#: one transaction), each well under what Redis takes as one value.
SEGMENT_BYTES = 64 << 20
#: About the most a refresh reads in one round trip, in bytes (or one segment).
READ_BYTES = 64 << 20


# A commit in one round trip and one reply, atomic as a script is: the segment, the
# paragraph count, the version that wrote last, the documents' names; the list's length.
_COMMIT = """
local length = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
for i = 4, #ARGV, 1000 do
    redis.call('SADD', KEYS[4], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
return length
"""


def masked(url: str) -> str:
    """``url`` with its password, if any, replaced by ``****``: what errors, logs, reports
    and ``dedup index info`` show.

    >>> masked("redis://:s3cret@db.example:6379/0?namespace=site")
    'redis://:****@db.example:6379/0?namespace=site'
    """
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{user}:****@{host}{port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class RedisIndex(MemoryIndex):
    """The index in the Redis namespace ``url`` names; see the module's docstring. Not
    ``writable`` (``dedup check``), it must exist and refuses to commit."""

    def __init__(
        self, url: str, config: Config, writable: bool = True, create: bool = True
    ) -> None:
        super().__init__(config)
        self.url = masked(url)
        self.writable = writable
        self._client, namespace = _connect(url, self.url)
        self._keys = {
            name: f"{namespace}:{name}"
            for name in ("settings", "format", "created", "dedup", "paragraphs", "documents")
        }
        self._keys["segments"] = f"{namespace}:segments"
        self._commit = self._client.register_script(_COMMIT)
        self._seen = 0  # segments read
        self._largest = 0  # the largest segment read, in bytes (none yet: read one first)
        self._own: set[int] = set()  # positions of the segments this process appended
        self._committed = 0
        with self._errors():
            if writable and create:
                pipe = self._client.pipeline(transaction=True)
                pipe.set(self._keys["settings"], config.index_name(), nx=True)
                pipe.set(self._keys["format"], FORMAT, nx=True)
                now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                pipe.set(self._keys["created"], now, nx=True)
                pipe.execute()
            stored = self._client.mget(self._keys["settings"], self._keys["format"])
        if stored[0] is None:
            raise IndexAccessError(self.url, "no dedup index here")
        if int(stored[1] or 0) > FORMAT:
            raise IndexAccessError(
                self.url,
                f"written by a newer dedup (format {int(stored[1])}); this one reads format "
                f"{FORMAT}: upgrade dedup to use it",
            )
        self._settings = stored[0].decode()
        self.refresh()

    def _errors(self) -> Any:
        return _RedisErrors(self.url)

    def refresh(self) -> None:
        """Read the segments committed since the last look, unless paragraphs of this
        process's wait for their commit (then at the next document): one round trip when
        there are a few, pieces of about :data:`READ_BYTES` when there are many (a worker
        that joins a large index holds one piece beside its replica, and so does the
        server's reply buffer, not the whole index twice). A segment this process
        appended is not read back."""
        if len(self) != self._committed:
            return
        while True:
            while self._seen in self._own:
                self._seen += 1
            count = max(1, READ_BYTES // self._largest) if self._largest else 1
            with self._errors():
                blobs = self._client.lrange(
                    self._keys["segments"], self._seen, self._seen + count - 1
                )
            self.absorb(
                [
                    _unpack(blob, self.url)
                    for position, blob in enumerate(blobs, start=self._seen)
                    if position not in self._own
                ]
            )
            self._seen += len(blobs)
            self._largest = max([self._largest, *map(len, blobs)])
            if len(blobs) < count:
                break
        self._committed = len(self)
        self._keep_recent()  # what this process inserts from here on is its next segment

    def commit(self) -> None:
        """Append what was kept since the last commit as one segment (see the module)."""
        if len(self) == self._committed:
            return
        if not self.writable:
            raise IndexAccessError(self.url, "opened for reading only: nothing is added to it")
        arrays, names = self.arrays(self._committed)
        for family in self.FAMILIES:  # ids counted from the segment's start
            arrays[f"{family}_ids"] = arrays[f"{family}_ids"] - self._committed
        keys = [self._keys[name] for name in ("segments", "paragraphs", "dedup", "documents")]
        count = len(self) - self._committed
        size = sum(array.nbytes for array in arrays.values())
        pieces = min(-(-size // SEGMENT_BYTES), count)  # Redis takes no value past 512 MB
        bounds = [count * n // pieces for n in range(pieces + 1)]
        with self._errors():
            pipe = self._client.pipeline(transaction=True)  # all the segments, or none
            for start, stop in itertools.pairwise(bounds):
                segment, named = self.cut(arrays, names, start, stop)
                values = [_pack(segment, named), stop - start, _version(), *named]
                self._commit(keys=keys, args=values, client=pipe)
            lengths = pipe.execute()
        self._own.update(int(length) - 1 for length in lengths)
        self._committed = len(self)
        self._settle()

    def info(self) -> dict[str, Any]:
        keys = self._keys
        with self._errors():
            settings, created, paragraphs, version = self._client.mget(
                keys["settings"], keys["created"], keys["paragraphs"], keys["dedup"]
            )
            documents = self._client.scard(keys["documents"])
            size = sum(self._client.memory_usage(key) or 0 for key in keys.values())
        return {
            "index": self.url,
            "settings": (settings or b"").decode(),
            "paragraphs": int(paragraphs or 0),
            "documents": documents,
            "bytes": size,
            "created": (created or b"").decode(),
            "format": FORMAT,
            "dedup": (version or b"").decode(),
        }

    def drop(self) -> list[str]:
        """Delete the index: every key of its namespace."""
        with self._errors():
            self._client.delete(*self._keys.values())
        self.close()
        return []

    def close(self) -> None:
        self._client.close()


def _connect(url: str, shown: str) -> tuple[Any, str]:
    try:
        import redis
    except ImportError:  # pragma: no cover - the extra is missing
        raise ConfigError('a Redis index needs redis-py: pip install "paradedup[redis]"') from None
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    namespace = query.pop("namespace", [DEFAULT_NAMESPACE])[-1]
    if not namespace:  # a variable left unset: not the index every other site shares
        problem = f"the namespace is empty (name one, or leave it out for {DEFAULT_NAMESPACE!r})"
        raise ConfigError(f"{shown}: {problem}")
    try:
        timeout = float(query.pop("timeout", [DEFAULT_TIMEOUT])[-1])
    except ValueError:
        raise ConfigError(f"{shown}: timeout must be a number of seconds") from None
    rest = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, True)))
    try:
        client = redis.Redis.from_url(rest, socket_timeout=timeout, socket_connect_timeout=timeout)
        pool = client.connection_pool  # a setting redis-py does not know fails here, not later
        pool.connection_class(**pool.connection_kwargs)  # (no connection is made)
    except ValueError as error:
        raise ConfigError(f"{shown}: {error}") from None
    except TypeError as error:  # "... got an unexpected keyword argument 'foo'"
        name = str(error).rpartition(" ")[2]
        raise ConfigError(f"{shown}: unknown setting {name} in the URL") from None
    return client, namespace


class _RedisErrors:
    """Turns a Redis that went away (or never answered) into one clear error."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        import redis

        if kind is None or not issubclass(kind, redis.RedisError):
            return
        if issubclass(kind, redis.TimeoutError):
            problem = "no answer in time (raise ?timeout=SECONDS)"
        elif issubclass(kind, redis.ConnectionError):
            problem = "connection refused" if "refused" in str(error).lower() else str(error)
        else:
            problem = str(error)
        raise IndexAccessError(self.url, problem) from None


def _pack(arrays: dict[str, npt.NDArray[Any]], names: list[str]) -> bytes:
    """A segment as bytes: a JSON header (each array's dtype, shape and length, and the
    documents' names), then the arrays' bytes one after another."""
    header = {
        "names": names,
        "arrays": [[k, a.dtype.str, list(a.shape), a.nbytes] for k, a in arrays.items()],
    }
    head = json.dumps(header, ensure_ascii=False).encode()
    parts = [len(head).to_bytes(8, "little"), head]
    parts += [np.ascontiguousarray(a).tobytes() for a in arrays.values()]
    return b"".join(parts)


def _unpack(blob: bytes, url: str) -> tuple[dict[str, npt.NDArray[Any]], list[str]]:
    try:
        size = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8 : 8 + size])
        at = 8 + size
        arrays = {}
        for name, dtype, shape, nbytes in header["arrays"]:
            count = nbytes // np.dtype(dtype).itemsize
            arrays[name] = np.frombuffer(blob, dtype, count, offset=at).reshape(shape)
            at += nbytes
    except (ValueError, KeyError, TypeError) as error:
        raise IndexAccessError(url, f"a segment cannot be read: {error}") from None
    return arrays, list(header["names"])


def _version() -> str:
    from dedup import __version__

    return __version__
