"""Packing: bodies within the limit, every element once and in order, near the ideal count."""

from __future__ import annotations

import itertools
import math

import numpy as np
import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moengage_pipelines.push.pack.packer import (
    TRANSITION_PREFIX,
    BodyPacker,
    catalog_packer,
    pack_elements,
    transition_packer,
)

ENVELOPE = len(TRANSITION_PREFIX) + len(b"]}")

text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
)
element_values = st.lists(text, min_size=0, max_size=300)


def _elements(values: list[str]) -> list[bytes]:
    return [
        orjson.dumps({"type": "customer", "customer_id": f"user-{i}", "attributes": {"v": value}})
        for i, value in enumerate(values)
    ]


def _unpack(bodies) -> list[dict]:
    out = []
    for body in bodies:
        document = orjson.loads(body.payload)
        assert document["type"] == "transition"
        assert body.users == len(document["elements"])
        out.extend(document["elements"])
    return out


@settings(max_examples=150, deadline=None)
@given(values=element_values, limit=st.integers(min_value=300, max_value=5_000))
def test_bodies_within_limit_and_elements_once_in_order(values, limit):
    elements = _elements(values)
    bodies = pack_elements(elements, transition_packer("users", limit))
    assert all(body.size <= limit for body in bodies)
    assert _unpack(bodies) == [orjson.loads(element) for element in elements]
    # first_row points at the body's first element.
    position = 0
    for body in bodies:
        assert body.first_row == position
        position += body.users


@settings(max_examples=150, deadline=None)
@given(values=element_values, limit=st.integers(min_value=300, max_value=5_000))
def test_greedy_packing_is_optimal_for_ordered_elements(values, limit):
    """No body could take the next body's first element: the count is the minimum."""
    elements = _elements(values)
    bodies = pack_elements(elements, transition_packer("users", limit))
    for current, following in itertools.pairwise(bodies):
        first_next = orjson.loads(following.payload)["elements"][0]
        assert current.size + 1 + len(orjson.dumps(first_next)) > limit


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(min_value=20, max_value=400), min_size=1, max_size=3_000))
def test_body_count_close_to_ideal_at_real_limit(sizes):
    """With elements far smaller than a body (the real case), waste stays under 0.5%."""
    elements = [orjson.dumps({"k": "x" * size}) for size in sizes]
    bodies = pack_elements(elements, transition_packer("events", 100_000))
    total = sum(body.size for body in bodies)
    ideal = math.ceil(total / 100_000)
    assert len(bodies) <= ideal * 1.005 + 1


@pytest.mark.parametrize("extra", [0, 1])
def test_exact_boundary_at_limit_and_one_over(extra):
    element = orjson.dumps({"k": "v"})
    # Two elements fill a body exactly when the limit is envelope + 2 elements + one comma.
    limit = ENVELOPE + 2 * len(element) + 1
    bodies = pack_elements([element, element], transition_packer("users", limit - extra))
    if extra == 0:
        assert [body.size for body in bodies] == [limit]
    else:
        assert len(bodies) == 2
        assert all(body.size == ENVELOPE + len(element) for body in bodies)


def test_single_element_exactly_filling_a_body():
    element = orjson.dumps({"k": "x" * 50})
    packer = transition_packer("users", ENVELOPE + len(element))
    assert packer.max_element_bytes() == len(element)
    [body] = pack_elements([element], packer)
    assert body.size == ENVELOPE + len(element)


def test_element_larger_than_a_body_is_refused():
    element = orjson.dumps({"k": "x" * 500})
    with pytest.raises(ValueError, match="does not fit"):
        pack_elements([element], transition_packer("users", 300))


def test_multibyte_utf8_is_measured_in_bytes():
    value = "é😀中" * 30  # 2 + 4 + 3 bytes per group
    elements = _elements([value] * 50)
    limit = 1_000
    bodies = pack_elements(elements, transition_packer("users", limit))
    assert all(body.size <= limit for body in bodies)
    assert all(len(body.payload) == body.size for body in bodies)
    assert [e["attributes"]["v"] for e in _unpack(bodies)] == [value] * 50


def test_tail_is_carried_across_batches():
    """Feeding elements in many small batches gives the same bodies as one batch."""
    elements = _elements([str(i) * (i % 7) for i in range(500)])
    one = pack_elements(elements, transition_packer("users", 2_000))
    packer = transition_packer("users", 2_000)
    many = []
    for start in range(0, len(elements), 7):
        chunk = [element + b"," for element in elements[start : start + 7]]
        many.extend(packer.pack(pa.array(chunk, pa.binary()), start))
    many.extend(packer.flush())
    assert [body.payload for body in many] == [body.payload for body in one]
    assert [body.first_row for body in many] == [body.first_row for body in one]


def test_catalog_bodies_hold_at_most_50_items():
    items = [orjson.dumps({"id": f"sku-{i}", "title": "t", "link": "l", "image_link": "i"})
             for i in range(120)]
    bodies = pack_elements(items, catalog_packer())
    assert [body.items for body in bodies] == [50, 50, 20]
    assert all(body.endpoint == "catalog_items" for body in bodies)
    decoded = [item for body in bodies for item in orjson.loads(body.payload)["items"]]
    assert [item["id"] for item in decoded] == [f"sku-{i}" for i in range(120)]


def test_catalog_bodies_respect_the_byte_limit_too():
    items = [orjson.dumps({"id": str(i), "title": "x" * 900}) for i in range(20)]
    bodies = pack_elements(items, catalog_packer(max_body_bytes=5_000))
    assert all(body.size <= 5_000 for body in bodies)
    assert sum(body.items for body in bodies) == 20


def test_split_of_a_packed_body_keeps_every_element():
    elements = _elements(["a" * i for i in range(40)])
    [body] = pack_elements(elements, transition_packer("users", 100_000))
    left, right = body.split()
    assert _unpack([left, right]) == [orjson.loads(element) for element in elements]
    assert right.first_row == left.users


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.tuples(text, st.booleans()), max_size=200),
    limit=st.integers(min_value=300, max_value=3_000),
    batch=st.integers(min_value=1, max_value=50),
    max_elements=st.one_of(st.none(), st.integers(min_value=1, max_value=20)),
)
def test_null_elements_are_skipped_across_batches(values, limit, batch, max_elements):
    """Rows not to send are null: bodies hold exactly the others, in order, with their rows."""
    elements = _elements([value for value, _ in values])
    send = [keep for _, keep in values]
    packer = BodyPacker("transition", prefix=TRANSITION_PREFIX, suffix=b"]}", max_bytes=limit,
                        max_elements=max_elements, kind="users")
    bodies = []
    for start in range(0, len(elements), batch):
        chunk = [
            element + b"," if keep else None
            for element, keep in zip(elements[start : start + batch],
                                     send[start : start + batch], strict=True)
        ]
        bodies.extend(packer.pack(pa.array(chunk, pa.binary()), 1_000 + start))
    bodies.extend(packer.flush())
    expected_rows = [1_000 + i for i, keep in enumerate(send) if keep]
    assert _unpack(bodies) == [orjson.loads(e) for e, keep in zip(elements, send, strict=True)
                               if keep]
    assert all(body.size <= limit for body in bodies)
    if max_elements:
        assert all(body.users <= max_elements for body in bodies)
    # Each body's first_row is the source row of its first element.
    position = 0
    for body in bodies:
        assert body.users > 0
        assert body.first_row == expected_rows[position]
        position += body.users


def test_blank_rows_removes_their_bytes():
    from moengage_pipelines.push.prepare.elements import blank_rows

    array = pa.array(["aaa,", None, "bbbb,", "cc,"], pa.string()).slice(0)
    blanked = blank_rows(array, np.array([False, False, True, False]))
    assert blanked.to_pylist() == ["aaa,", None, None, "cc,"]
    packer = transition_packer("users", 1_000)
    [body] = [*packer.pack(blanked, 10), *packer.flush()]
    assert body.payload == b'{"type":"transition","elements":[aaa,cc]}'
    assert (body.users, body.first_row) == (2, 10)
