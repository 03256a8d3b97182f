"""WCAG contrast: the ratio, the text colour on the brand colour, the link shade, warnings."""

import pytest

from widget.colors import (
    contrast_ratio,
    contrast_report,
    contrast_warnings,
    link_color,
    readable_text_color,
)


@pytest.mark.parametrize(
    ("a", "b", "ratio"),
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#000000", 21.0),
        ("#1f5fbf", "#1f5fbf", 1.0),
        ("#767676", "#ffffff", 4.54),  # the lightest grey that passes AA on white
        ("#777777", "#ffffff", 4.48),  # one step lighter fails
        ("#ffdd00", "#ffffff", 1.35),
    ],
)
def test_it_computes_the_wcag_contrast_ratio(a, b, ratio):
    assert contrast_ratio(a, b) == pytest.approx(ratio, abs=0.01)


@pytest.mark.parametrize(
    ("color", "text"), [("#ffffff", "#000000"), ("#000000", "#ffffff"), ("#ffdd00", "#000000")]
)
def test_it_picks_the_text_colour_that_passes_aa(color, text):
    assert readable_text_color(color) == text
    assert contrast_ratio(color, text) >= 4.5


@pytest.mark.parametrize("brand", ["#ffdd00", "#79aec8", "#ff0000", "#00ff00", "#ffffff"])
def test_it_darkens_a_light_brand_colour_for_links_until_aa(brand):
    shade = link_color(brand)
    assert shade != brand
    assert contrast_ratio(shade, "#ffffff") >= 4.5


def test_it_keeps_a_dark_brand_colour_for_links():
    assert link_color("#143d2b") == "#143d2b"


def test_it_warns_about_a_light_brand_colour_only():
    assert contrast_warnings("#143d2b") == []
    (warning,) = contrast_warnings("#ffdd00")
    assert "1.35:1" in warning and "4.5:1" in warning
    assert link_color("#ffdd00") in warning
    report = contrast_report("#ffdd00")
    assert report["text_color"] == "#000000" and report["text_ratio"] >= 4.5
