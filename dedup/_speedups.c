/* Compiled kernels of dedup's hot path, each with a pure-Python twin that gives the same
 * answer (dedup/native.py chooses; DEDUP_PURE_PYTHON=1 forces the twins, and the tests run
 * against both).
 *
 * opcodes(a, b): difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() for two
 * sequences of hashable items (the token tuples verification aligns), step for step the
 * same algorithm: the longest matching block (the earliest one of a, then of b, among the
 * longest), recursively on both sides of it, adjacent blocks joined, and the opcodes
 * between them. Items are numbered through a dict, as difflib's b2j does, so equality is
 * Python's.
 *
 * lookup_runs(needles, runs, cap): the postings of sorted 32-bit keys in sorted runs of
 * (key, id) pairs (dedup.index.memory.Postings.lookup): for each needle, in needle order,
 * the ids posted under it, the older runs' first and each run's in its order, at most cap
 * a needle. Each run is walked once, by galloping from where the last needle was found.
 * lookup_runs(needles, runs, cap, filter, shift) looks up only the needles whose bit is set
 * in filter (see mark_keys): the others are held by no run.
 *
 * mark_keys(filter, keys, shift): a Bloom filter of one hash over 32-bit keys, which are
 * hashes already: key k sets bit k >> shift of filter (uint64 words, 2 ** (32 - shift) bits,
 * written in place). Postings keeps one over the keys of its runs, so that a lookup skips
 * the runs for a needle none holds (most needles: a sixteenth to a quarter of its bits set).
 *
 * merge_runs(keys1, ids1, used1, keys2, ids2, cap): two sorted runs as one (Postings.add),
 * the older one's pairs before the newer one's under an equal key, at most cap a key, in
 * place: the older run is the first used1 pairs of keys1 and ids1, which have room for the
 * newer one after them; the merged run is written to their front and its length returned.
 *
 * ascii_tokens(text, separator): re.findall(r"[A-Za-z0-9_]+|\$", text) for an ASCII str
 * (dedup.normalize's tokens of ASCII text), with "\0" a token of its own too when
 * separator is true (the batch's texts joined by it).
 *
 * minhash_rows(values, offsets, a, b): dedup.minhash.signature_rows, MinHash signatures of
 * sets given as one uint32 array and offsets: each value mixed by MurmurHash3's finalizer,
 * then a[p] * h + b[p] modulo 2**32 and the minimum a permutation (built for AVX2 too
 * where GCC can, chosen when the module loads), as a bytearray of rows.
 *
 * ascii_normalize(texts): dedup.normalize.normalize of each ASCII text of a list that holds
 * no '&' (no entity to decode: a backtick is the only typographic character, lower case
 * the case fold, each run of white space one space, the ends stripped as str.strip does),
 * None for the others.
 *
 * max_char(text): max(map(ord, text), default=0), one pass over the code points where the
 * str holds them (max(text) makes a one-character str of each and compares them: about 40
 * instructions a character). dedup.normalize asks whether a text is written below a code
 * point (Latin letters, no format character but the soft hyphen).
 *
 * ascii_token_hashes(text): the XXH3 64-bit hash of each token of ascii_tokens(text, True),
 * the separator's 0 (dedup.shingles.TokenHasher), as uint64 in bytes: no str a token.
 * XXH3 comes from xxhash.h, xxHash 0.8.2's header, vendored (BSD 2-clause, its notice
 * kept): XXH3's values are fixed across versions, and a property test holds them to the
 * xxhash package's.
 *
 * latin_token_hashes(text): the same for a str of Latin letters (every character below
 * U+0250), its tokens those of dedup.normalize's _LATIN_TOKEN_OR_SEPARATOR (runs of
 * word characters, runs of superscripts and fractions with digits, currency signs, "\0"),
 * each hashed as its UTF-8 bytes.
 *
 * text_lines(text, bom, lead, trail): dedup.paragraphs.lines, in one pass over the str
 * where it lies (no UTF-32 copy): each line's content, its bounds without the line break
 * (CRLF, LF or CR), and whether it is blank, as five bytes objects (int64 arrays but the
 * last, bools). lead and trail are 65,536-byte tables of the characters that never start
 * or end a line's content (U+FFFF and above are none); bom drops a BOM at the start.
 *
 * shared_counts(known, known_offsets, asked, asked_offsets): for each pair i, how many
 * values the sorted sets known[known_offsets[i]:known_offsets[i + 1]] and
 * asked[asked_offsets[i]:asked_offsets[i + 1]] (uint32, int64 offsets) share, by one
 * merge of the two (dedup.verify.far_pairs' shingles shared), as int64 in a bytes object.
 *
 * gather(values, offsets, rows): dedup.fingerprint.gather, the slices
 * values[offsets[r]:offsets[r + 1]] of rows one after another (items of any size), and
 * where each starts with the end last (int64), as two bytearrays (writable for numpy).
 *
 * inner_pairs(rows, values, held, keepable, cap): the core of dedup.index.base.batch_pairs
 * for one key family, its keys sorted by key then row: in each group of equal keys, the
 * rows that can be kept (keepable[row]) are counted against the room left (cap less the
 * most paragraphs the index holds under the key, held); a group with more is crowded and
 * its postings are listed (row, group number, room), else each row is paired with every
 * keepable row before it in the group that is an earlier row. Five int64 bytearrays:
 * crowded rows, groups, rooms, then the pairs' later and earlier rows.
 *
 * score_pairs(band_rows, band_ids, shingle_rows, shingle_ids, edge_rows, edge_ids, sizes,
 * limit): dedup.index.base.score, the candidate pairs (row, id) found through each key
 * family ranked: a pair scores 1 for each band and edge posting, plus 2 * n / sizes[row]
 * when the n shingle postings it has are at least half the row's shingles, summed in that
 * order (bands, shingles, edges) in doubles as numpy's bincount sums them; each row's
 * pairs the best first, ties by id, at most limit a row, the rows in order. The postings
 * are bucketed by row (a counting sort), each row's tallied by id in a small table, and
 * the best kept as they come: no sort of them all. Three bytearrays: rows and ids
 * (int64), scores (float64).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define XXH_INLINE_ALL
#include "xxhash.h"
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

typedef struct {
    Py_ssize_t i, j, k;
} Block;

typedef struct {
    Py_ssize_t alo, ahi, blo, bhi;
} Range;

typedef struct {
    Py_ssize_t la, lb;
    Py_ssize_t *a;         /* a's items as numbers of b's distinct items; -1: not in b */
    Py_ssize_t *b;         /* b's items as numbers */
    Py_ssize_t *where;     /* b's positions grouped by item, ascending within a group */
    Py_ssize_t *first;     /* item n's positions are where[first[n] .. first[n + 1]) */
    Py_ssize_t *len[2];    /* the longest match ending at (row, j + 1), for two rows */
    Py_ssize_t *stamp[2];  /* the step that wrote len[.][j + 1] */
    Py_ssize_t clock;      /* steps so far: one a row of a, in every call */
} Matcher;

static int
compare_blocks(const void *x, const void *y)
{
    const Block *p = x, *q = y;
    if (p->i != q->i) return p->i < q->i ? -1 : 1;
    if (p->j != q->j) return p->j < q->j ? -1 : 1;
    if (p->k != q->k) return p->k < q->k ? -1 : 1;
    return 0;
}

/* difflib's find_longest_match without junk. */
static Block
longest(Matcher *m, Py_ssize_t alo, Py_ssize_t ahi, Py_ssize_t blo, Py_ssize_t bhi)
{
    Block best = {alo, blo, 0};
    /* Each row gets a new step number: a length is read only where the row just before,
     * in this call, wrote it (difflib's j2len is new in every call, and empty after a row
     * of a with no match). */
    Py_ssize_t before = -1;
    for (Py_ssize_t i = alo; i < ahi; i++) {
        Py_ssize_t now = ++m->clock;
        Py_ssize_t *now_len = m->len[now & 1], *now_stamp = m->stamp[now & 1];
        Py_ssize_t *was_len = m->len[(now + 1) & 1], *was_stamp = m->stamp[(now + 1) & 1];
        Py_ssize_t item = m->a[i];
        for (Py_ssize_t at = item < 0 ? 0 : m->first[item]; item >= 0 && at < m->first[item + 1];
             at++) {
            Py_ssize_t j = m->where[at];
            if (j < blo) continue;
            if (j >= bhi) break;
            Py_ssize_t k = (was_stamp[j] == before ? was_len[j] : 0) + 1;
            now_len[j + 1] = k;
            now_stamp[j + 1] = now;
            if (k > best.k) {
                best.i = i - k + 1;
                best.j = j - k + 1;
                best.k = k;
            }
        }
        before = now;
    }
    /* difflib extends the block with equal items around it (junk aside); without junk the
     * block found is already maximal, but the same steps keep the same answer. */
    while (best.i > alo && best.j > blo && m->a[best.i - 1] == m->b[best.j - 1]) {
        best.i--;
        best.j--;
        best.k++;
    }
    while (best.i + best.k < ahi && best.j + best.k < bhi &&
           m->a[best.i + best.k] == m->b[best.j + best.k])
        best.k++;
    return best;
}

static PyObject *TAG_EQUAL, *TAG_REPLACE, *TAG_DELETE, *TAG_INSERT;

static int
append_code(PyObject *out, PyObject *tag, Py_ssize_t i1, Py_ssize_t i2, Py_ssize_t j1,
            Py_ssize_t j2)
{
    PyObject *code = Py_BuildValue("(Onnnn)", tag, i1, i2, j1, j2);
    if (code == NULL) return -1;
    int failed = PyList_Append(out, code);
    Py_DECREF(code);
    return failed;
}

static PyObject *
opcodes(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "opcodes(a, b) takes two sequences");
        return NULL;
    }
    PyObject *a = PySequence_Fast(args[0], "opcodes: a must be a sequence");
    if (a == NULL) return NULL;
    PyObject *b = PySequence_Fast(args[1], "opcodes: b must be a sequence");
    if (b == NULL) {
        Py_DECREF(a);
        return NULL;
    }
    PyObject *out = NULL, *numbers = NULL;
    Matcher m = {0};
    Block *blocks = NULL;
    Range *stack = NULL;
    m.la = PySequence_Fast_GET_SIZE(a);
    m.lb = PySequence_Fast_GET_SIZE(b);
    PyObject **as = PySequence_Fast_ITEMS(a), **bs = PySequence_Fast_ITEMS(b);
    Py_ssize_t la = m.la, lb = m.lb, n = lb + 1;
    m.a = PyMem_Calloc(la + 1, sizeof(Py_ssize_t));
    m.b = PyMem_Calloc(lb + 1, sizeof(Py_ssize_t));
    m.where = PyMem_Calloc(lb + 1, sizeof(Py_ssize_t));
    m.first = PyMem_Calloc(lb + 2, sizeof(Py_ssize_t));
    for (int r = 0; r < 2; r++) {
        m.len[r] = PyMem_Calloc(n, sizeof(Py_ssize_t));
        m.stamp[r] = PyMem_Calloc(n, sizeof(Py_ssize_t));
    }
    /* At most one block per item of the shorter side, and a stack as deep. */
    Py_ssize_t most = (la < lb ? la : lb) + 2;
    blocks = PyMem_Calloc(most, sizeof(Block));
    stack = PyMem_Calloc(most, sizeof(Range));
    if (!m.a || !m.b || !m.where || !m.first || !m.len[0] || !m.len[1] || !m.stamp[0] ||
        !m.stamp[1] || !blocks || !stack) {
        PyErr_NoMemory();
        goto done;
    }
    for (int r = 0; r < 2; r++)
        for (Py_ssize_t j = 0; j < n; j++) m.stamp[r][j] = -2;
    /* Number b's distinct items in order of first appearance; count each one's places. */
    numbers = PyDict_New();
    if (numbers == NULL) goto done;
    Py_ssize_t distinct = 0;
    for (Py_ssize_t j = 0; j < lb; j++) {
        PyObject *known = PyDict_GetItemWithError(numbers, bs[j]);
        Py_ssize_t number;
        if (known != NULL) {
            number = PyLong_AsSsize_t(known);
        } else {
            if (PyErr_Occurred()) goto done;
            number = distinct++;
            PyObject *value = PyLong_FromSsize_t(number);
            if (value == NULL) goto done;
            int failed = PyDict_SetItem(numbers, bs[j], value);
            Py_DECREF(value);
            if (failed) goto done;
        }
        m.b[j] = number;
        m.first[number + 1]++;
    }
    for (Py_ssize_t d = 0; d < distinct; d++) m.first[d + 1] += m.first[d];
    {
        Py_ssize_t *fill = PyMem_Calloc(distinct + 1, sizeof(Py_ssize_t));
        if (fill == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t j = 0; j < lb; j++) m.where[m.first[m.b[j]] + fill[m.b[j]]++] = j;
        PyMem_Free(fill);
    }
    for (Py_ssize_t i = 0; i < la; i++) {
        PyObject *known = PyDict_GetItemWithError(numbers, as[i]);
        if (known == NULL) {
            if (PyErr_Occurred()) goto done;
            m.a[i] = -1;
        } else {
            m.a[i] = PyLong_AsSsize_t(known);
        }
    }
    /* difflib's get_matching_blocks: a stack of ranges, the block found in each. */
    Py_ssize_t found = 0, depth = 0;
    stack[depth++] = (Range){0, la, 0, lb};
    while (depth) {
        Range r = stack[--depth];
        Block x = longest(&m, r.alo, r.ahi, r.blo, r.bhi);
        if (x.k) {
            blocks[found++] = x;
            if (r.alo < x.i && r.blo < x.j) stack[depth++] = (Range){r.alo, x.i, r.blo, x.j};
            if (x.i + x.k < r.ahi && x.j + x.k < r.bhi)
                stack[depth++] = (Range){x.i + x.k, r.ahi, x.j + x.k, r.bhi};
        }
    }
    qsort(blocks, found, sizeof(Block), compare_blocks);
    /* Join adjacent blocks, end with the sentinel, and turn the blocks into opcodes. */
    out = PyList_New(0);
    if (out == NULL) goto done;
    Py_ssize_t i = 0, j = 0;
    Block run = {0, 0, 0};
    for (Py_ssize_t at = 0; at <= found; at++) {
        Block next = at < found ? blocks[at] : (Block){la, lb, 0};
        if (at < found && run.i + run.k == next.i && run.j + run.k == next.j) {
            run.k += next.k;
            continue;
        }
        Block steps[2] = {run, next};
        int count = 0;
        if (run.k) steps[count++] = run;
        if (at == found) steps[count++] = next;
        for (int s = 0; s < count; s++) {
            Block x = steps[s];
            PyObject *tag = NULL;
            if (i < x.i && j < x.j) tag = TAG_REPLACE;
            else if (i < x.i) tag = TAG_DELETE;
            else if (j < x.j) tag = TAG_INSERT;
            if (tag != NULL && append_code(out, tag, i, x.i, j, x.j)) goto fail;
            i = x.i + x.k;
            j = x.j + x.k;
            if (x.k && append_code(out, TAG_EQUAL, x.i, i, x.j, j)) goto fail;
        }
        run = next;
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    Py_XDECREF(numbers);
    PyMem_Free(m.a);
    PyMem_Free(m.b);
    PyMem_Free(m.where);
    PyMem_Free(m.first);
    for (int r = 0; r < 2; r++) {
        PyMem_Free(m.len[r]);
        PyMem_Free(m.stamp[r]);
    }
    PyMem_Free(blocks);
    PyMem_Free(stack);
    Py_DECREF(a);
    Py_DECREF(b);
    return out;
}

/* The first position at or after `from` whose key is not below `value`. */
static Py_ssize_t
gallop(const uint32_t *keys, Py_ssize_t size, Py_ssize_t from, uint32_t value)
{
    Py_ssize_t lo = from, step = 1, hi;
    if (lo >= size || keys[lo] >= value) return lo;
    while (lo + step < size && keys[lo + step] < value) {
        lo += step;
        step *= 2;
    }
    hi = lo + step < size ? lo + step : size; /* keys[lo] < value <= keys[hi] (or the end) */
    lo += 1;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < value) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int
get_items_as(PyObject *object, Py_buffer *view, const char *what, Py_ssize_t itemsize, int flags)
{
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | flags) < 0) return -1;
    if (view->itemsize != itemsize || view->ndim != 1) {
        PyErr_Format(PyExc_TypeError, "%s: a 1-d array of %zd-byte items expected", what,
                     itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static int
get_items(PyObject *object, Py_buffer *view, const char *what, Py_ssize_t itemsize)
{
    return get_items_as(object, view, what, itemsize, 0);
}

static int
get_array(PyObject *object, Py_buffer *view, const char *what)
{
    return get_items(object, view, what, 4);
}

/* The shift of a filter of `bits` bits (mark_keys), -1 with an error set if it is none. */
static int
filter_shift(PyObject *shift_object, const Py_buffer *filter)
{
    long shift = PyLong_AsLong(shift_object);
    if (shift == -1 && PyErr_Occurred()) return -1;
    if (shift < 0 || shift > 26 || filter->len != ((Py_ssize_t)8 << (26 - shift))) {
        PyErr_SetString(PyExc_ValueError, "a filter holds 2 ** (32 - shift) bits, shift 0 to 26");
        return -1;
    }
    return (int)shift;
}

static inline int
filter_has(const uint64_t *filter, int shift, uint32_t value)
{
    uint32_t slot = value >> shift;
    return (int)((filter[slot >> 6] >> (slot & 63)) & 1);
}

static PyObject *
mark_keys(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "mark_keys(filter, keys, shift)");
        return NULL;
    }
    Py_buffer filter, keys;
    if (get_items_as(args[0], &filter, "filter", 8, PyBUF_WRITABLE) < 0) return NULL;
    if (get_array(args[1], &keys, "keys") < 0) {
        PyBuffer_Release(&filter);
        return NULL;
    }
    int shift = filter_shift(args[2], &filter);
    if (shift >= 0) {
        uint64_t *bits = filter.buf;
        const uint32_t *values = keys.buf;
        for (Py_ssize_t n = 0, count = keys.len / 4; n < count; n++) {
            uint32_t slot = values[n] >> shift;
            bits[slot >> 6] |= (uint64_t)1 << (slot & 63);
        }
    }
    PyBuffer_Release(&keys);
    PyBuffer_Release(&filter);
    if (shift < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *
lookup_runs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if ((nargs != 3 && nargs != 5) || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "lookup_runs(needles, runs: list, cap[, filter, shift])");
        return NULL;
    }
    Py_ssize_t cap = PyLong_AsSsize_t(args[2]);
    if (cap < 0 && PyErr_Occurred()) return NULL;
    Py_buffer filter = {0};
    int shift = -1;
    if (nargs == 5) {
        if (get_items(args[3], &filter, "filter", 8) < 0) return NULL;
        if ((shift = filter_shift(args[4], &filter)) < 0) {
            PyBuffer_Release(&filter);
            return NULL;
        }
    }
    Py_buffer needles;
    if (get_array(args[0], &needles, "needles") < 0) {
        if (shift >= 0) PyBuffer_Release(&filter);
        return NULL;
    }
    Py_ssize_t count = needles.len / 4, nruns = PyList_GET_SIZE(args[1]), got = 0;
    Py_buffer *views = PyMem_Calloc(2 * (size_t)nruns + 1, sizeof(Py_buffer));
    Py_ssize_t *at = PyMem_Calloc((size_t)nruns + 1, sizeof(Py_ssize_t));
    Py_ssize_t room = count + 16, used = 0;
    int64_t *which = PyMem_Malloc((size_t)room * sizeof(int64_t));
    int64_t *ids = PyMem_Malloc((size_t)room * sizeof(int64_t));
    PyObject *out = NULL;
    if (!views || !at || !which || !ids) {
        PyErr_NoMemory();
        goto done;
    }
    for (; got < nruns; got++) {
        PyObject *run = PyList_GET_ITEM(args[1], got);
        if (!PyTuple_Check(run) || PyTuple_GET_SIZE(run) != 2) {
            PyErr_SetString(PyExc_TypeError, "a run is a (keys, ids) tuple");
            goto done;
        }
        if (get_array(PyTuple_GET_ITEM(run, 0), &views[2 * got], "keys") < 0) goto done;
        if (get_array(PyTuple_GET_ITEM(run, 1), &views[2 * got + 1], "ids") < 0) {
            PyBuffer_Release(&views[2 * got]);
            goto done;
        }
        if (views[2 * got].len != views[2 * got + 1].len) {
            PyErr_SetString(PyExc_ValueError, "a run's keys and ids differ in length");
            PyBuffer_Release(&views[2 * got]);
            PyBuffer_Release(&views[2 * got + 1]);
            goto done;
        }
    }
    const uint32_t *wanted = needles.buf;
    const uint64_t *bits = shift >= 0 ? filter.buf : NULL;
    for (Py_ssize_t n = 0; n < count; n++) {
        uint32_t value = wanted[n];
        if (bits && !filter_has(bits, shift, value)) continue;
        Py_ssize_t taken = 0;
        for (Py_ssize_t r = 0; r < nruns && taken < cap; r++) {
            const uint32_t *keys = views[2 * r].buf;
            const int32_t *posted = views[2 * r + 1].buf;
            Py_ssize_t size = views[2 * r].len / 4;
            Py_ssize_t p = at[r] = gallop(keys, size, at[r], value);
            for (; p < size && keys[p] == value && taken < cap; p++, taken++) {
                if (used == room) {
                    room *= 2;
                    int64_t *w = PyMem_Realloc(which, (size_t)room * sizeof(int64_t));
                    if (w) which = w;
                    int64_t *i = w ? PyMem_Realloc(ids, (size_t)room * sizeof(int64_t)) : NULL;
                    if (i) ids = i;
                    if (!w || !i) {
                        PyErr_NoMemory();
                        goto done;
                    }
                }
                which[used] = n;
                ids[used++] = posted[p];
            }
        }
    }
    out = Py_BuildValue("(y#y#)", (const char *)which, used * (Py_ssize_t)sizeof(int64_t),
                        (const char *)ids, used * (Py_ssize_t)sizeof(int64_t));
done:
    for (Py_ssize_t r = 0; r < got; r++) {
        PyBuffer_Release(&views[2 * r]);
        PyBuffer_Release(&views[2 * r + 1]);
    }
    PyBuffer_Release(&needles);
    if (shift >= 0) PyBuffer_Release(&filter);
    PyMem_Free(views);
    PyMem_Free(at);
    PyMem_Free(which);
    PyMem_Free(ids);
    return out;
}

static PyObject *
merge_runs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "merge_runs(keys1, ids1, used1, keys2, ids2, cap)");
        return NULL;
    }
    Py_ssize_t n1 = PyLong_AsSsize_t(args[2]);
    if (n1 < 0 && PyErr_Occurred()) return NULL;
    Py_ssize_t cap = PyLong_AsSsize_t(args[5]);
    if (cap < 0 && PyErr_Occurred()) return NULL;
    PyObject *arrays[4] = {args[0], args[1], args[3], args[4]};
    Py_buffer view[4];
    int got = 0;
    PyObject *out = NULL;
    for (; got < 4; got++)  /* the first run is written to */
        if (get_items_as(arrays[got], &view[got], got % 2 ? "ids" : "keys", 4,
                         got < 2 ? PyBUF_WRITABLE : 0) < 0)
            goto done;
    Py_ssize_t n2 = view[2].len / 4;
    if (view[0].len != view[1].len || view[2].len != view[3].len) {
        PyErr_SetString(PyExc_ValueError, "a run's keys and ids differ in length");
        goto done;
    }
    if (n1 < 0 || view[0].len / 4 != n1 + n2) {
        PyErr_SetString(PyExc_ValueError, "the first run needs room for the second after used1");
        goto done;
    }
    uint32_t *k = view[0].buf;
    int32_t *i = view[1].buf;
    const uint32_t *k2 = view[2].buf;
    const int32_t *i2 = view[3].buf;
    /* From the ends, the largest key first, into the room after the first run: what is
     * written never reaches a pair of it not read yet (the room left stays at least the
     * second run's pairs not read). A key's pairs: the first run's first, then the second's,
     * the first cap of them. */
    Py_ssize_t a = n1, b = n2, w = n1 + n2;
    while (a > 0 || b > 0) {
        uint32_t value = b == 0 || (a > 0 && k[a - 1] >= k2[b - 1]) ? k[a - 1] : k2[b - 1];
        Py_ssize_t c1 = 0, c2 = 0;
        while (c1 < a && k[a - 1 - c1] == value) c1++;
        while (c2 < b && k2[b - 1 - c2] == value) c2++;
        Py_ssize_t older = c1 < cap ? c1 : cap;
        Py_ssize_t newer = c2 < cap - older ? c2 : cap - older;
        /* Pair by pair from the last (most keys hold one or two): a pair of the first
         * run goes to where it is or further on, so none is written over before read. */
        for (Py_ssize_t t = newer; t-- > 0;) {
            k[--w] = value;
            i[w] = i2[b - c2 + t];
        }
        for (Py_ssize_t t = older; t-- > 0;) {
            k[--w] = value;
            i[w] = i[a - c1 + t];
        }
        a -= c1;
        b -= c2;
    }
    Py_ssize_t used = n1 + n2 - w;
    if (w) {  /* pairs past a cap were left out: the run moves to the front */
        memmove(k, k + w, (size_t)used * 4);
        memmove(i, i + w, (size_t)used * 4);
    }
    out = PyLong_FromSsize_t(used);
done:
    while (got--) PyBuffer_Release(&view[got]);
    return out;
}

static PyObject *
ascii_tokens(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyUnicode_IS_ASCII(args[0])) {
        PyErr_SetString(PyExc_TypeError, "ascii_tokens(text: ASCII str, separator: bool)");
        return NULL;
    }
    int separator = PyObject_IsTrue(args[1]);
    if (separator < 0) return NULL;
    const unsigned char *text = PyUnicode_1BYTE_DATA(args[0]);
    Py_ssize_t size = PyUnicode_GET_LENGTH(args[0]);
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (Py_ssize_t at = 0; at < size;) {
        unsigned char c = text[at];
        Py_ssize_t end = at;
        while (end < size && (Py_ISALNUM(text[end]) || text[end] == '_')) end++;
        if (end == at && (c == '$' || (separator && c == 0))) end = at + 1;
        if (end == at) {
            at++;
            continue;
        }
        PyObject *token = PyUnicode_New(end - at, 127);
        if (!token || (memcpy(PyUnicode_1BYTE_DATA(token), text + at, end - at),
                       PyList_Append(out, token) < 0)) {
            Py_XDECREF(token);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(token);
        at = end;
    }
    return out;
}

static PyObject *
max_char(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "max_char(text: str)");
        return NULL;
    }
    PyObject *text = args[0];
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    Py_UCS4 top = 0;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: {
        const Py_UCS1 *at = data;
        for (Py_ssize_t i = 0; i < size; i++) top = at[i] > top ? at[i] : top;
        break;
    }
    case PyUnicode_2BYTE_KIND: {
        const Py_UCS2 *at = data;
        for (Py_ssize_t i = 0; i < size; i++) top = at[i] > top ? at[i] : top;
        break;
    }
    default: {
        const Py_UCS4 *at = data;
        for (Py_ssize_t i = 0; i < size; i++) top = at[i] > top ? at[i] : top;
    }
    }
    return PyLong_FromUnsignedLong(top);
}

static PyObject *
ascii_token_hashes(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !PyUnicode_Check(args[0]) || !PyUnicode_IS_ASCII(args[0])) {
        PyErr_SetString(PyExc_TypeError, "ascii_token_hashes(text: ASCII str)");
        return NULL;
    }
    const unsigned char *text = PyUnicode_1BYTE_DATA(args[0]);
    Py_ssize_t size = PyUnicode_GET_LENGTH(args[0]);
    PyObject *out = NULL;
    Py_ssize_t count = 0;  /* two passes: count, then hash into bytes of the right size */
    for (int pass = 0; pass < 2; pass++) {
        uint64_t *hashes = NULL;
        if (pass) {
            out = PyBytes_FromStringAndSize(NULL, count * 8);
            if (!out) return NULL;
            hashes = (uint64_t *)PyBytes_AS_STRING(out);
            count = 0;
        }
        for (Py_ssize_t at = 0; at < size;) {
            unsigned char c = text[at];
            Py_ssize_t end = at;
            while (end < size && (Py_ISALNUM(text[end]) || text[end] == '_')) end++;
            if (end == at && (c == '$' || c == 0)) end = at + 1;
            if (end > at) {
                if (pass) hashes[count] = c == 0 ? 0 : XXH3_64bits(text + at, end - at);
                count++;
            }
            at = end > at ? end : at + 1;
        }
    }
    return out;
}

/* What a character below U+0250 is to the Latin tokens: 1 a word character, 2 a number
 * that is none (superscripts, fractions), 3 a currency sign, 4 the separator, 0 none. */
static int
latin_class(Py_UCS4 c)
{
    if (c == 0) return 4;
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= 'a' && c <= 'z') ||
        c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c != 0xD7 && c != 0xF7))
        return 1;
    if (c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0xBC && c <= 0xBE)) return 2;
    if (c == '$' || (c >= 0xA2 && c <= 0xA5)) return 3;
    return 0;
}

static PyObject *
latin_token_hashes(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !PyUnicode_Check(args[0]) || PyUnicode_KIND(args[0]) == PyUnicode_4BYTE_KIND) {
        PyErr_SetString(PyExc_TypeError, "latin_token_hashes(text: str below U+0250)");
        return NULL;
    }
    PyObject *text = args[0];
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t at = 0; at < size; at++) {
        if (PyUnicode_READ(kind, data, at) >= 0x250) {
            PyErr_SetString(PyExc_ValueError, "latin_token_hashes: a character above U+024F");
            return NULL;
        }
    }
    unsigned char *utf8 = PyMem_Malloc(2 * (size_t)size + 1);  /* two bytes a character at most */
    if (!utf8) return PyErr_NoMemory();
    PyObject *out = NULL;
    Py_ssize_t count = 0;  /* two passes: count, then hash into bytes of the right size */
    for (int pass = 0; pass < 2; pass++) {
        uint64_t *hashes = NULL;
        if (pass) {
            out = PyBytes_FromStringAndSize(NULL, count * 8);
            if (!out) break;
            hashes = (uint64_t *)PyBytes_AS_STRING(out);
            count = 0;
        }
        for (Py_ssize_t at = 0; at < size;) {
            int class = latin_class(PyUnicode_READ(kind, data, at));
            Py_ssize_t end = at + 1;
            if (class == 1) {
                while (end < size && latin_class(PyUnicode_READ(kind, data, end)) == 1) end++;
            } else if (class == 2) {
                for (; end < size; end++) {
                    Py_UCS4 c = PyUnicode_READ(kind, data, end);
                    if (!((c >= '0' && c <= '9') || latin_class(c) == 2)) break;
                }
            } else if (class == 0) {
                at = end;
                continue;
            }
            if (pass) {
                size_t bytes = 0;
                for (Py_ssize_t k = at; k < end; k++) {
                    Py_UCS4 c = PyUnicode_READ(kind, data, k);
                    if (c < 0x80) {
                        utf8[bytes++] = (unsigned char)c;
                    } else {
                        utf8[bytes++] = (unsigned char)(0xC0 | (c >> 6));
                        utf8[bytes++] = (unsigned char)(0x80 | (c & 0x3F));
                    }
                }
                hashes[count] = class == 4 ? 0 : XXH3_64bits(utf8, bytes);
            }
            count++;
            at = end;
        }
    }
    PyMem_Free(utf8);
    return out;
}

static PyObject *
ascii_normalize(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "ascii_normalize(texts: list of str)");
        return NULL;
    }
    PyObject *texts = args[0];
    Py_ssize_t count = PyList_GET_SIZE(texts);
    PyObject *out = PyList_New(count);
    if (!out) return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *text = PyList_GET_ITEM(texts, i), *done = Py_None;
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "ascii_normalize: a list of str expected");
            Py_DECREF(out);
            return NULL;
        }
        Py_ssize_t size = PyUnicode_GET_LENGTH(text);
        const unsigned char *in = PyUnicode_IS_ASCII(text) ? PyUnicode_1BYTE_DATA(text) : NULL;
        if (in && !memchr(in, '&', size)) {
            done = PyUnicode_New(size, 127);
            if (!done) {
                Py_DECREF(out);
                return NULL;
            }
            unsigned char *to = PyUnicode_1BYTE_DATA(done);
            Py_ssize_t n = 0;
            for (Py_ssize_t at = 0; at < size;) {
                unsigned char c = in[at];
                if (c == ' ' || (c >= '\t' && c <= '\r')) {  /* a run of white space */
                    while (at < size && (in[at] == ' ' || (in[at] >= '\t' && in[at] <= '\r')))
                        at++;
                    to[n++] = ' ';
                    continue;
                }
                to[n++] = c == '`' ? '\'' : Py_TOLOWER(c);
                at++;
            }
            Py_ssize_t start = 0, end = n;  /* str.strip(): white space as str has it */
            while (start < end && Py_UNICODE_ISSPACE(to[start])) start++;
            while (end > start && Py_UNICODE_ISSPACE(to[end - 1])) end--;
            if (start > 0 || end < size) {
                PyObject *cut = PyUnicode_Substring(done, start, end);
                Py_DECREF(done);
                if (!cut) {
                    Py_DECREF(out);
                    return NULL;
                }
                done = cut;
            }
        } else {
            Py_INCREF(done);
        }
        PyList_SET_ITEM(out, i, done);
    }
    return out;
}

static int
get_table(PyObject *object, Py_buffer *view, const char *what)
{
    if (PyObject_GetBuffer(object, view, PyBUF_SIMPLE) < 0) return -1;
    if (view->len != 0x10000) {
        PyErr_Format(PyExc_ValueError, "%s: a table of 65,536 bytes expected", what);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *
text_lines(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "text_lines(text: str, bom, lead, trail)");
        return NULL;
    }
    int bom = PyObject_IsTrue(args[1]);
    if (bom < 0) return NULL;
    Py_buffer tables[2];
    if (get_table(args[2], &tables[0], "lead") < 0) return NULL;
    if (get_table(args[3], &tables[1], "trail") < 0) {
        PyBuffer_Release(&tables[0]);
        return NULL;
    }
    const unsigned char *lead = tables[0].buf, *trail = tables[1].buf;
    PyObject *text = args[0], *arrays[5] = {NULL}, *out = NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t size = PyUnicode_GET_LENGTH(text), count = 0, at;
#define CODE(i) PyUnicode_READ(kind, data, (i))
#define CLIP(c) ((c) > 0xFFFF ? 0xFFFF : (c))
    for (at = 0; at < size; at++) {
        Py_UCS4 c = CODE(at);
        if (c == '\r' || c == '\n') {
            count++;
            if (c == '\r' && at + 1 < size && CODE(at + 1) == '\n') at++;
        }
    }
    /* A line follows the last break unless the text ends there. */
    Py_ssize_t last_start = 0;
    if (count) {
        for (at = size - 1; at >= 0 && CODE(at) != '\r' && CODE(at) != '\n'; at--);
        last_start = at + 1;
    }
    if (last_start < size) count++;
    for (int k = 0; k < 5; k++)
        if (!(arrays[k] = PyBytes_FromStringAndSize(NULL, count * (k < 4 ? 8 : 1)))) goto done;
    int64_t *start = (int64_t *)PyBytes_AS_STRING(arrays[0]);
    int64_t *end = (int64_t *)PyBytes_AS_STRING(arrays[1]);
    int64_t *line_start = (int64_t *)PyBytes_AS_STRING(arrays[2]);
    int64_t *line_end = (int64_t *)PyBytes_AS_STRING(arrays[3]);
    char *blank = PyBytes_AS_STRING(arrays[4]);
    Py_ssize_t from = 0;
    for (Py_ssize_t line = 0; line < count; line++) {
        Py_ssize_t stop = from;
        while (stop < size && CODE(stop) != '\r' && CODE(stop) != '\n') stop++;
        Py_ssize_t s = line == 0 && bom ? 1 : from, p = s;
        while (p < stop && lead[CLIP(CODE(p))]) p++;
        line_start[line] = s;
        line_end[line] = stop;
        if (p >= stop) {
            start[line] = end[line] = s;
            blank[line] = 1;
        } else {
            Py_ssize_t q = stop - 1;
            while (q >= p && trail[CLIP(CODE(q))]) q--;
            start[line] = p;
            end[line] = q + 1 > p ? q + 1 : p;
            blank[line] = 0;
        }
        from = stop + 1;
        if (stop + 1 < size && CODE(stop) == '\r' && CODE(stop + 1) == '\n') from++;
    }
#undef CODE
#undef CLIP
    out = PyTuple_Pack(5, arrays[0], arrays[1], arrays[2], arrays[3], arrays[4]);
done:
    for (int k = 0; k < 5; k++) Py_XDECREF(arrays[k]);
    PyBuffer_Release(&tables[0]);
    PyBuffer_Release(&tables[1]);
    return out;
}

static PyObject *
shared_counts(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "shared_counts(known, known_offsets, asked, asked_offsets)");
        return NULL;
    }
    Py_buffer view[4];
    int got = 0;
    PyObject *out = NULL;
    for (; got < 4; got++)
        if (get_items(args[got], &view[got], got % 2 ? "offsets" : "values",
                      got % 2 ? 8 : 4) < 0)
            goto done;
    if (view[1].len == 0) {
        PyErr_SetString(PyExc_ValueError, "offsets: at least one expected");
        goto done;
    }
    if (view[1].len != view[3].len) {
        PyErr_SetString(PyExc_ValueError, "the two sides hold other numbers of sets");
        goto done;
    }
    const uint32_t *known = view[0].buf, *asked = view[2].buf;
    const int64_t *ko = view[1].buf, *ao = view[3].buf;
    Py_ssize_t pairs = view[1].len / 8 - 1, nk = view[0].len / 4, na = view[2].len / 4;
    if (ko[0] < 0 || ao[0] < 0 || ko[pairs] > nk || ao[pairs] > na) {
        PyErr_SetString(PyExc_ValueError, "offsets beyond the values");
        goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, pairs * 8);
    if (!out) goto done;
    int64_t *counts = (int64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < pairs; i++) {
        int64_t a = ko[i], a_end = ko[i + 1], b = ao[i], b_end = ao[i + 1], n = 0;
        if (a > a_end || b > b_end || a_end > nk || b_end > na) {
            PyErr_SetString(PyExc_ValueError, "offsets out of order");
            Py_CLEAR(out);
            goto done;
        }
        while (a < a_end && b < b_end) {
            uint32_t x = known[a], y = asked[b];
            n += x == y;
            a += x <= y;
            b += y <= x;
        }
        counts[i] = n;
    }
done:
    while (got--) PyBuffer_Release(&view[got]);
    return out;
}

static inline uint32_t
fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    return h ^ (h >> 16);
}

/* The kernel of minhash_rows, built for AVX2 too where the compiler can (chosen when the
   module loads: eight permutations per instruction), else for any x86-64 or other CPU. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
static void
minhash_kernel(const uint32_t *values, const int64_t *offsets, Py_ssize_t rows,
               const uint32_t *a, const uint32_t *b, Py_ssize_t perms, uint32_t *sig)
{
    for (Py_ssize_t i = 0; i < rows; i++, sig += perms) {
        for (Py_ssize_t p = 0; p < perms; p++) sig[p] = 0xFFFFFFFFu;
        for (int64_t k = offsets[i]; k < offsets[i + 1]; k++) {
            uint32_t h = fmix32(values[k]);
            for (Py_ssize_t p = 0; p < perms; p++) {
                uint32_t v = a[p] * h + b[p];
                sig[p] = v < sig[p] ? v : sig[p];
            }
        }
    }
}

static PyObject *
minhash_rows(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "minhash_rows(values, offsets, a, b)");
        return NULL;
    }
    Py_buffer view[4];
    int got = 0;
    PyObject *out = NULL;
    static const char *what[4] = {"values", "offsets", "a", "b"};
    for (; got < 4; got++)
        if (get_items(args[got], &view[got], what[got], got == 1 ? 8 : 4) < 0) goto done;
    if (view[1].len == 0) {
        PyErr_SetString(PyExc_ValueError, "offsets: at least one expected");
        goto done;
    }
    if (view[2].len != view[3].len) {
        PyErr_SetString(PyExc_ValueError, "a and b: as many of each expected");
        goto done;
    }
    const uint32_t *values = view[0].buf, *a = view[2].buf, *b = view[3].buf;
    const int64_t *offsets = view[1].buf;
    Py_ssize_t rows = view[1].len / 8 - 1, count = view[0].len / 4, perms = view[2].len / 4;
    for (Py_ssize_t i = 0; i < rows; i++)
        if (offsets[i] < 0 || offsets[i] > offsets[i + 1] || offsets[i + 1] > count) {
            PyErr_SetString(PyExc_ValueError, "offsets out of order or beyond the values");
            goto done;
        }
    out = PyByteArray_FromStringAndSize(NULL, rows * perms * 4);  /* writable for numpy */
    if (!out) goto done;
    Py_BEGIN_ALLOW_THREADS
    minhash_kernel(values, offsets, rows, a, b, perms, (uint32_t *)PyByteArray_AS_STRING(out));
    Py_END_ALLOW_THREADS
done:
    while (got--) PyBuffer_Release(&view[got]);
    return out;
}

static PyObject *
gather(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "gather(values, offsets, rows)");
        return NULL;
    }
    Py_buffer view[3];
    int got = 0;
    PyObject *values_out = NULL, *offsets_out = NULL, *out = NULL;
    if (PyObject_GetBuffer(args[0], &view[0], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    got = 1;
    if (view[0].ndim != 1) {
        PyErr_SetString(PyExc_TypeError, "values: a 1-d array expected");
        goto done;
    }
    for (; got < 3; got++)
        if (get_items(args[got], &view[got], got == 1 ? "offsets" : "rows", 8) < 0) goto done;
    const char *values = view[0].buf;
    const int64_t *offsets = view[1].buf, *rows = view[2].buf;
    Py_ssize_t size = view[0].itemsize, count = view[0].len / size;
    Py_ssize_t bounds = view[1].len / 8 - 1, wanted = view[2].len / 8;
    int64_t total = 0;
    for (Py_ssize_t i = 0; i < wanted; i++) {
        int64_t r = rows[i];
        if (r < 0 || r >= bounds || offsets[r] < 0 || offsets[r] > offsets[r + 1] ||
            offsets[r + 1] > count) {
            PyErr_SetString(PyExc_ValueError, "a row beyond the offsets, or its slice out of order");
            goto done;
        }
        total += offsets[r + 1] - offsets[r];
    }
    values_out = PyByteArray_FromStringAndSize(NULL, total * size);
    offsets_out = PyByteArray_FromStringAndSize(NULL, (wanted + 1) * 8);
    if (!values_out || !offsets_out) goto done;
    char *to = PyByteArray_AS_STRING(values_out);
    int64_t *starts = (int64_t *)PyByteArray_AS_STRING(offsets_out), at = 0;
    for (Py_ssize_t i = 0; i < wanted; i++) {
        int64_t r = rows[i], n = offsets[r + 1] - offsets[r];
        starts[i] = at;
        memcpy(to + at * size, values + offsets[r] * size, n * size);
        at += n;
    }
    starts[wanted] = at;
    out = PyTuple_Pack(2, values_out, offsets_out);
done:
    Py_XDECREF(values_out);
    Py_XDECREF(offsets_out);
    while (got--) PyBuffer_Release(&view[got]);
    return out;
}

static PyObject *
inner_pairs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "inner_pairs(rows, values, held, keepable, cap)");
        return NULL;
    }
    int64_t cap = PyLong_AsLongLong(args[4]);
    if (cap == -1 && PyErr_Occurred()) return NULL;
    Py_buffer view[4];
    int got = 0;
    PyObject *arrays[5] = {NULL, NULL, NULL, NULL, NULL}, *out = NULL;
    Py_ssize_t *partners = NULL;
    static const char *what[4] = {"rows", "values", "held", "keepable"};
    static const Py_ssize_t sizes[4] = {8, 4, 8, 1};
    for (; got < 4; got++)
        if (get_items(args[got], &view[got], what[got], sizes[got]) < 0) goto done;
    const int64_t *rows = view[0].buf, *held = view[2].buf;
    const uint32_t *values = view[1].buf;
    const unsigned char *keepable = view[3].buf;
    Py_ssize_t n = view[0].len / 8, count = view[3].len;
    if (view[1].len / 4 != n || view[2].len / 8 != n) {
        PyErr_SetString(PyExc_ValueError, "rows, values and held: as many of each expected");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (rows[i] < 0 || rows[i] >= count) {
            PyErr_SetString(PyExc_ValueError, "a row beyond keepable");
            goto done;
        }
    /* Two walks over the groups: the first counts what the second writes. A calm group's
     * eligible positions (at most the room left, cap at most) are listed in `partners`, so
     * that each row meets only them: a group of thousands of copies with one keepable row
     * makes thousands of pairs, not millions of steps (issue 10). */
    int64_t *buffers[5] = {NULL, NULL, NULL, NULL, NULL};
    partners = PyMem_Malloc((n ? n : 1) * sizeof(Py_ssize_t));
    if (!partners) {
        PyErr_NoMemory();
        goto done;
    }
    for (int pass = 0; pass < 2; pass++) {
        Py_ssize_t crowded = 0, pairs = 0;
        int64_t group = 0;
        for (Py_ssize_t start = 0, end; start < n; start = end, group++) {
            int64_t most = held[start], eligible = 0;
            for (end = start; end < n && values[end] == values[start]; end++) {
                most = held[end] > most ? held[end] : most;
                eligible += keepable[rows[end]] != 0;
            }
            int64_t room = cap - most;
            if (eligible > room) {
                for (Py_ssize_t p = start; p < end; p++, crowded++)
                    if (pass) {
                        buffers[0][crowded] = rows[p];
                        buffers[1][crowded] = group;
                        buffers[2][crowded] = room;
                    }
                continue;
            }
            Py_ssize_t listed = 0;
            for (Py_ssize_t p = start; p < end; p++) {
                for (Py_ssize_t k = 0; k < listed; k++) {
                    Py_ssize_t q = partners[k];
                    if (rows[q] < rows[p]) {
                        if (pass) {
                            buffers[3][pairs] = rows[p];
                            buffers[4][pairs] = rows[q];
                        }
                        pairs++;
                    }
                }
                if (keepable[rows[p]]) partners[listed++] = p;
            }
        }
        if (pass) break;
        for (int k = 0; k < 5; k++) {
            arrays[k] = PyByteArray_FromStringAndSize(NULL, (k < 3 ? crowded : pairs) * 8);
            if (!arrays[k]) goto done;
            buffers[k] = (int64_t *)PyByteArray_AS_STRING(arrays[k]);
        }
    }
    out = PyTuple_Pack(5, arrays[0], arrays[1], arrays[2], arrays[3], arrays[4]);
done:
    PyMem_Free(partners);
    for (int k = 0; k < 5; k++) Py_XDECREF(arrays[k]);
    while (got--) PyBuffer_Release(&view[got]);
    return out;
}

typedef struct {
    double total;
    int64_t id;
} Scored;

static int
better(Scored a, Scored b)
{
    return a.total > b.total || (a.total == b.total && a.id < b.id);
}

typedef struct {
    int64_t id; /* -1: empty */
    int64_t of[3];
} Tally;

static PyObject *
score_pairs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "score_pairs(band_rows, band_ids, shingle_rows, shingle_ids, "
                        "edge_rows, edge_ids, sizes, limit)");
        return NULL;
    }
    Py_ssize_t limit = PyLong_AsSsize_t(args[7]);
    if (limit == -1 && PyErr_Occurred()) return NULL;
    if (limit < 0) {
        PyErr_SetString(PyExc_ValueError, "limit: at least 0");
        return NULL;
    }
    Py_buffer view[7];
    int got = 0;
    static const char *what[7] = {"band_rows", "band_ids",  "shingle_rows", "shingle_ids",
                                  "edge_rows", "edge_ids", "sizes"};
    PyObject *arrays[3] = {NULL, NULL, NULL}, *out = NULL;
    Py_ssize_t *start = NULL, *used = NULL;
    uint64_t *items = NULL;
    Scored *ranked = NULL;
    Tally *table = NULL;
    for (; got < 7; got++)
        if (get_items(args[got], &view[got], what[got], 8) < 0) goto done;
    const int64_t *sizes = view[6].buf;
    Py_ssize_t count = view[6].len / 8, total = 0;
    for (int family = 0; family < 3; family++) {
        const int64_t *rows = view[2 * family].buf, *ids = view[2 * family + 1].buf;
        Py_ssize_t n = view[2 * family].len / 8;
        if (view[2 * family + 1].len / 8 != n) {
            PyErr_Format(PyExc_ValueError, "%s and %s: as many of each expected",
                         what[2 * family], what[2 * family + 1]);
            goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++)
            if (rows[i] < 0 || rows[i] >= count || ids[i] < 0 || ids[i] > 0xFFFFFFFFLL) {
                PyErr_SetString(PyExc_ValueError, "a row beyond sizes, or an id beyond 32 bits");
                goto done;
            }
        total += n;
    }
    start = PyMem_Calloc(count + 1, sizeof(Py_ssize_t));
    items = PyMem_Malloc((total ? total : 1) * sizeof(uint64_t));
    if (!start || !items) {
        PyErr_NoMemory();
        goto done;
    }
    /* Bucketed by row, each posting as its id above its family (bands 0, shingles 1,
     * edges 2). */
    for (int family = 0; family < 3; family++) {
        const int64_t *rows = view[2 * family].buf;
        for (Py_ssize_t i = 0, n = view[2 * family].len / 8; i < n; i++) start[rows[i] + 1]++;
    }
    Py_ssize_t widest = 0;
    for (Py_ssize_t r = 0; r < count; r++) {
        widest = start[r + 1] > widest ? start[r + 1] : widest;
        start[r + 1] += start[r];
    }
    for (int family = 0; family < 3; family++) {
        const int64_t *rows = view[2 * family].buf, *ids = view[2 * family + 1].buf;
        for (Py_ssize_t i = 0, n = view[2 * family].len / 8; i < n; i++)
            items[start[rows[i]]++] = (uint64_t)ids[i] << 2 | (uint64_t)family;
    }
    for (Py_ssize_t r = count; r > 0; r--) start[r] = start[r - 1]; /* back to the starts */
    start[0] = 0;
    /* Each row's postings tallied by id in a table (open addressing, at most half full),
     * its slots cleared after the row; the best `limit` kept in order as they come. */
    int bits = 1;
    while (((Py_ssize_t)1 << bits) < 2 * widest) bits++;
    Py_ssize_t slots = (Py_ssize_t)1 << bits, room = limit < widest ? limit : widest;
    table = PyMem_Malloc(slots * sizeof(Tally));
    used = PyMem_Malloc((widest ? widest : 1) * sizeof(Py_ssize_t));
    ranked = PyMem_Malloc((room + 1) * sizeof(Scored));
    if (!table || !used || !ranked) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < slots; k++) table[k].id = -1;
    for (int k = 0; k < 3; k++) { /* at most a pair a posting */
        arrays[k] = PyByteArray_FromStringAndSize(NULL, total * 8);
        if (!arrays[k]) goto done;
    }
    int64_t *rows_out = (int64_t *)PyByteArray_AS_STRING(arrays[0]);
    int64_t *ids_out = (int64_t *)PyByteArray_AS_STRING(arrays[1]);
    double *totals_out = (double *)PyByteArray_AS_STRING(arrays[2]);
    Py_ssize_t written = 0;
    for (Py_ssize_t r = 0; r < count; r++) {
        Py_ssize_t listed = 0, kept = 0;
        for (Py_ssize_t i = start[r]; i < start[r + 1]; i++) {
            int64_t id = (int64_t)(items[i] >> 2);
            Py_ssize_t at = (Py_ssize_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
            while (table[at].id != -1 && table[at].id != id) at = (at + 1) & (slots - 1);
            if (table[at].id == -1) {
                table[at].id = id;
                table[at].of[0] = table[at].of[1] = table[at].of[2] = 0;
                used[listed++] = at;
            }
            table[at].of[items[i] & 3]++;
        }
        for (Py_ssize_t k = 0; k < listed; k++) {
            Tally *tally = &table[used[k]];
            const int64_t *of = tally->of;
            int shingles = of[1] > 0 && of[1] * 2 >= sizes[r];
            Scored pair = {0.0, tally->id};
            tally->id = -1;
            if (!of[0] && !of[2] && !shingles) continue;
            /* Summed in the order numpy's bincount meets them: bands, shingles, edges. */
            for (int64_t n = 0; n < of[0]; n++) pair.total += 1.0;
            if (shingles) pair.total += (double)(2 * of[1]) / (double)sizes[r];
            for (int64_t n = 0; n < of[2]; n++) pair.total += 1.0;
            if (kept == room && (!room || !better(pair, ranked[kept - 1]))) continue;
            Py_ssize_t j = kept < room ? kept++ : kept - 1;
            for (; j > 0 && better(pair, ranked[j - 1]); j--) ranked[j] = ranked[j - 1];
            ranked[j] = pair;
        }
        for (Py_ssize_t k = 0; k < kept; k++, written++) {
            rows_out[written] = r;
            ids_out[written] = ranked[k].id;
            totals_out[written] = ranked[k].total;
        }
    }
    for (int k = 0; k < 3; k++)
        if (PyByteArray_Resize(arrays[k], written * 8) < 0) goto done;
    out = PyTuple_Pack(3, arrays[0], arrays[1], arrays[2]);
done:
    PyMem_Free(start);
    PyMem_Free(items);
    PyMem_Free(ranked);
    PyMem_Free(table);
    PyMem_Free(used);
    for (int k = 0; k < 3; k++) Py_XDECREF(arrays[k]);
    while (got--) PyBuffer_Release(&view[got]);
    return out;
}

static PyMethodDef methods[] = {
    {"opcodes", (PyCFunction)(void (*)(void))opcodes, METH_FASTCALL,
     "difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes(), compiled."},
    {"lookup_runs", (PyCFunction)(void (*)(void))lookup_runs, METH_FASTCALL,
     "The postings of sorted uint32 needles in sorted (keys, ids) runs, cap a needle."},
    {"mark_keys", (PyCFunction)(void (*)(void))mark_keys, METH_FASTCALL,
     "Set bit key >> shift of a filter of uint64 words for each uint32 key, in place."},
    {"merge_runs", (PyCFunction)(void (*)(void))merge_runs, METH_FASTCALL,
     "Two sorted (keys, ids) runs of uint32 keys as one, the first's first, cap a key."},
    {"ascii_tokens", (PyCFunction)(void (*)(void))ascii_tokens, METH_FASTCALL,
     "re.findall(r'[A-Za-z0-9_]+|\\$', text) for ASCII text (and '\\0' if separator)."},
    {"max_char", (PyCFunction)(void (*)(void))max_char, METH_FASTCALL,
     "max(map(ord, text), default=0), in one pass over the str's code points."},
    {"ascii_token_hashes", (PyCFunction)(void (*)(void))ascii_token_hashes, METH_FASTCALL,
     "XXH3 of each token of ascii_tokens(text, True), 0 the separator's (uint64 bytes)."},
    {"latin_token_hashes", (PyCFunction)(void (*)(void))latin_token_hashes, METH_FASTCALL,
     "XXH3 of each Latin token (below U+0250) and '\\0' (0), as uint64 bytes."},
    {"ascii_normalize", (PyCFunction)(void (*)(void))ascii_normalize, METH_FASTCALL,
     "dedup.normalize.normalize of each ASCII text without '&'; None for the others."},
    {"text_lines", (PyCFunction)(void (*)(void))text_lines, METH_FASTCALL,
     "dedup.paragraphs.lines in one pass: five bytes objects (int64 arrays, bools)."},
    {"shared_counts", (PyCFunction)(void (*)(void))shared_counts, METH_FASTCALL,
     "How many values each pair of sorted uint32 sets shares (int64 in bytes)."},
    {"minhash_rows", (PyCFunction)(void (*)(void))minhash_rows, METH_FASTCALL,
     "MinHash rows of sets in one array (uint32), affine32 after fmix32 (a bytearray)."},
    {"gather", (PyCFunction)(void (*)(void))gather, METH_FASTCALL,
     "The slices of rows of values by offsets, one after another, and their starts."},
    {"inner_pairs", (PyCFunction)(void (*)(void))inner_pairs, METH_FASTCALL,
     "batch_pairs' crowded postings and pairs for one family's sorted keys (int64)."},
    {"score_pairs", (PyCFunction)(void (*)(void))score_pairs, METH_FASTCALL,
     "score's ranked pairs (rows, ids: int64; scores: float64), at most limit a row."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "dedup._speedups", "dedup's compiled kernels.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    TAG_EQUAL = PyUnicode_InternFromString("equal");
    TAG_REPLACE = PyUnicode_InternFromString("replace");
    TAG_DELETE = PyUnicode_InternFromString("delete");
    TAG_INSERT = PyUnicode_InternFromString("insert");
    if (!TAG_EQUAL || !TAG_REPLACE || !TAG_DELETE || !TAG_INSERT) return NULL;
    return PyModule_Create(&module);
}
