"""Mappings: YAML and dict loading, normalization, clear errors naming the field."""

from __future__ import annotations

import pytest

from moengage_pipelines.errors import ConfigError
from moengage_pipelines.push.mapping import (
    AttributeSpec,
    CatalogMapping,
    EventMapping,
    MappingError,
    UserMapping,
    load_mapping,
)

USERS_YAML = """
entity: users
customer_id: user_id
email: email_address
first_name: given_name
attributes:
  plan: subscription_plan
  lifetime_value: {column: ltv, type: number}
platforms:
  - platform: android
update_existing_only: true
"""


def test_users_from_yaml_file(tmp_path):
    path = tmp_path / "users.yml"
    path.write_text(USERS_YAML)
    mapping = load_mapping(path)
    assert isinstance(mapping, UserMapping)
    assert mapping.attributes == {
        "plan": AttributeSpec(column="subscription_plan"),
        "lifetime_value": AttributeSpec(column="ltv", type="number"),
    }
    assert list(mapping.output_attributes()) == ["first_name", "email", "plan", "lifetime_value"]
    assert mapping.platforms[0].platform == "ANDROID"
    assert mapping.update_existing_only is True
    assert mapping.columns() == ["user_id", "given_name", "email_address", "subscription_plan",
                                 "ltv"]
    # A path given as a string works too.
    assert load_mapping(str(path)) == mapping


def test_yaml_text_and_dict_give_the_same_model():
    from_text = load_mapping(USERS_YAML)
    import yaml

    assert load_mapping(yaml.safe_load(USERS_YAML)) == from_text


def test_events_with_list_attributes():
    mapping = load_mapping(
        {"entity": "events", "customer_id": "uid", "event_name_column": "event",
         "event_time_column": "at", "platform": "IOS", "attributes": ["sku", "price"]}
    )
    assert isinstance(mapping, EventMapping)
    assert mapping.platform == "iOS"
    assert mapping.attributes == {"sku": AttributeSpec(column="sku"),
                                  "price": AttributeSpec(column="price")}


def test_catalog_mapping():
    mapping = load_mapping(
        {"entity": "catalog", "catalog": "products", "price_currency": "EUR", "id_column": "sku",
         "title_column": "name", "link_column": "url", "image_link_column": "img",
         "attributes": {"price": {"column": "p", "type": "double"}, "brand": "brand"}}
    )
    assert isinstance(mapping, CatalogMapping)
    assert mapping.mandatory_columns() == {"id": "sku", "title": "name", "link": "url",
                                           "image_link": "img"}
    assert mapping.attributes["brand"].type is None


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ({"customer_id": "x"}, "entity is required"),
        ({"entity": "devices", "customer_id": "x"}, "does not match any of the expected tags"),
        ({"entity": "users"}, "customer_id: Field required"),
        ({"entity": "users", "customer_id": "x", "attributes": {"moe_score": "s"}},
         "system prefix 'moe_'"),
        ({"entity": "users", "customer_id": "x", "attributes": {"status": "s"}},
         "'status' is reserved"),
        ({"entity": "users", "customer_id": "x", "attributes": {"USER_ATTRIBUTE_UNIQUE_ID": "s"}},
         "reserved"),
        ({"entity": "users", "customer_id": "x", "attributes": {"": "s"}}, "must not be empty"),
        ({"entity": "users", "customer_id": "x", "attributes": {"email": "s"}},
         "standard attribute"),
        ({"entity": "users", "customer_id": "x", "colour": "red"},
         "colour: Extra inputs are not permitted"),
        ({"entity": "users", "customer_id": "x", "platforms": [{"platform": "symbian"}]},
         "unknown platform"),
        ({"entity": "events", "customer_id": "x"}, "exactly one of event_name"),
        ({"entity": "events", "customer_id": "x", "event_name": "A", "event_name_column": "e"},
         "exactly one of event_name"),
        ({"entity": "events", "customer_id": "x", "event_name": "moe_open"},
         "system prefix"),
        ({"entity": "events", "customer_id": "x", "event_name": "A", "platform": "web",
          "platform_column": "p"}, "give platform or platform_column"),
        ({"entity": "events", "customer_id": "x", "event_name": "A",
          "user_timezone_offset": 60_000}, "user_timezone_offset"),
        ({"entity": "events", "customer_id": "x", "event_name": "A", "attributes": {"moe_x": "c"}},
         "moe_"),
        ({"entity": "catalog", "catalog": "c", "id_column": "i", "title_column": "t",
          "link_column": "l", "image_link_column": "m", "attributes": {"title": "t"}},
         "mandatory"),
        ({"entity": "catalog", "catalog": "c", "id_column": "i", "title_column": "t",
          "link_column": "l", "image_link_column": "m",
          "attributes": {f"a{i}": "c" for i in range(47)}}, "at most 46"),
        ({"entity": "catalog", "catalog": "c", "id_column": "i", "title_column": "t",
          "link_column": "l", "image_link_column": "m", "price_currency": "dollars"},
         "price_currency"),
    ],
)
def test_invalid_mappings_name_the_problem(document, needle):
    with pytest.raises(MappingError, match=needle.replace("(", r"\(")):
        load_mapping(document)


def test_updatable_moe_user_attributes_are_allowed():
    mapping = load_mapping(
        {"entity": "users", "customer_id": "x", "attributes": {"moe_unsubscribe": "unsub"}}
    )
    assert "moe_unsubscribe" in mapping.attributes


def test_mapping_error_is_a_config_error():
    assert issubclass(MappingError, ConfigError)


def test_file_errors(tmp_path):
    with pytest.raises(MappingError, match="cannot read mapping"):
        load_mapping(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("entity: [users\n")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(bad)
    listing = tmp_path / "list.yml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(MappingError, match="expected a mapping document"):
        load_mapping(listing)
    wrong = tmp_path / "wrong.yml"
    wrong.write_text("entity: users\n")
    with pytest.raises(MappingError, match=r"wrong\.yml: customer_id"):
        load_mapping(wrong)


def test_non_finite_and_id_whitespace_options():
    users = load_mapping({"entity": "users", "customer_id": "x"})
    assert (users.non_finite, users.customer_id_whitespace) == ("null", "trim")
    events = load_mapping({"entity": "events", "customer_id": "x", "event_name": "A",
                           "non_finite": "reject", "customer_id_whitespace": "keep"})
    assert (events.non_finite, events.key_whitespace) == ("reject", "keep")
    catalog = load_mapping({"entity": "catalog", "catalog": "c", "id_column": "i",
                            "title_column": "t", "link_column": "l", "image_link_column": "m",
                            "id_whitespace": "keep"})
    assert (catalog.non_finite, catalog.key_whitespace) == ("null", "keep")


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ({"entity": "users", "customer_id": "x", "non_finite": "drop"}, "non_finite"),
        ({"entity": "users", "customer_id": "x", "customer_id_whitespace": "strip"},
         "customer_id_whitespace"),
        ({"entity": "catalog", "catalog": "c", "id_column": "i", "title_column": "t",
          "link_column": "l", "image_link_column": "m", "customer_id_whitespace": "keep"},
         "Extra inputs are not permitted"),
    ],
)
def test_invalid_options_name_the_field(document, needle):
    with pytest.raises(MappingError, match=needle):
        load_mapping(document)
