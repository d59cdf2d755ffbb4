import json

import pytest
from PIL import Image

from media_tools.frames import (
    SIZES,
    TEMPLATES,
    TemplateError,
    background_reference,
    describe_template,
    render_frame,
    resolve_template,
    template_names,
    validate_params,
)

TITLE = "The Power of Reading"
TEXT = "Ten pages a day add up to a dozen books a year."
LONG_TEXT = "Reading every day changes how you think and how you speak. " * 40
HOSTILE = [
    "{}\\N%{x}",
    "%{pts} {\\an8} $(id) `id` <b>bold</b> '; DROP TABLE",
    "W" * 500,
    "Zoom 😀🎬👍🏽 into the 🦄 future",
    "שלום עולם, مرحبا بالعالم, and English",
    "a\x00b\x1b[31mc\r\n\td\u202e reversed",
    "Z̷̢͖̈́a̶̛͇l̸̝̈g̵͓̾o̷͚͝ " * 30,
    "漢字かな交じり文" * 60,
    "\n\n\n   \n",
]
CASES = [(name, size) for name in sorted(TEMPLATES) for size in SIZES]


def render(tmp_path, name="image_default", size=(1080, 1920), params=None, *, title=TITLE,
           text=TEXT, index=2, total=6, **kwargs):
    out = tmp_path / f"{name.replace('/', '-')}-{size[0]}x{size[1]}.png"
    layout = render_frame(name, width=size[0], height=size[1], params=params, title=title,
                          text=text, index=index, total=total, out=out, **kwargs)
    return layout, Image.open(layout.path)


def alpha_range(image, box):
    x, y, w, h = box
    return image.getchannel("A").crop((x, y, x + w, y + h)).getextrema()


def inset(box, fraction):
    x, y, w, h = box
    dx, dy = round(w * fraction), round(h * fraction)
    return (x + dx, y + dy, w - 2 * dx, h - 2 * dy)


def overlaps(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def count_pixels(image, rgba):
    return dict((color, n) for n, color in image.getcolors(image.width * image.height)).get(rgba, 0)


# --- rendering --------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "size"), CASES)
def test_every_template_renders_a_transparent_window_and_an_opaque_layout(tmp_path, name, size):
    layout, image = render(tmp_path, name, size)
    assert (image.size, image.mode, image.format) == (size, "RGBA", "PNG")
    assert {"title", "text", "index"} <= set(layout.text_boxes)
    if layout.window is None:
        assert image.getchannel("A").getextrema() == (255, 255)
    elif name == "image_fullscreen":
        # The picture fills the frame; only the band at the bottom and the badge cover it.
        assert layout.window == (0, 0, *size)
        assert alpha_range(image, (0, size[1] // 5, size[0], size[1] // 3)) == (0, 0)
    else:
        assert alpha_range(image, inset(layout.window, 0.15)) == (0, 0)
        alpha = image.getchannel("A")
        x, y, w, h = layout.window
        alpha.paste(255, (x, y, x + w, y + h))
        assert alpha.getextrema() == (255, 255)  # everything around the window is drawn


@pytest.mark.parametrize(("name", "size"), CASES)
def test_long_text_shrinks_and_stays_inside_the_margins_away_from_window_and_captions(
        tmp_path, name, size):
    layout, _ = render(tmp_path, name, size, title="Title " * 60, text=LONG_TEXT, index=12,
                       total=12)
    width, height = size
    margin = 56 * min(size) / 1080 / 2
    for role, (x, y, w, h) in layout.text_boxes.items():
        assert x >= margin and y >= 0 and x + w <= width - margin and y + h <= height, role
    top, bottom = layout.caption_safe
    assert 0 <= top < bottom <= height
    for role in ("title", "text"):
        box = layout.text_boxes[role]
        assert box[1] + box[3] <= top or box[1] >= bottom, f"{role} crosses the caption strip"
        if layout.window is not None and name != "image_fullscreen":
            assert not overlaps(box, layout.window), f"{role} is drawn over the picture"


def test_long_text_is_drawn_smaller_than_short_text(tmp_path):
    short, _ = render(tmp_path, text="Short.")
    long, _ = render(tmp_path, text=LONG_TEXT)
    assert long.text_boxes["text"][3] > short.text_boxes["text"][3]  # more lines ...
    assert long.text_boxes["text"][3] < 0.25 * 1920  # ... but still inside its box


def test_font_scale_draws_larger_text(tmp_path):
    normal, _ = render(tmp_path, text="Short.")
    large, _ = render(tmp_path, params={"font_scale": 1.6}, text="Short.")
    assert large.text_boxes["text"][3] > normal.text_boxes["text"][3] * 1.4


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_hostile_text_is_drawn_as_text_without_crashing(tmp_path, name, text):
    layout, image = render(tmp_path, name, (1080, 1350), params={"font_scale": 2.0},
                           title=text, text=text)
    assert image.size == (1080, 1350)
    assert ("text" in layout.text_boxes) == bool(text.strip())


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_accent_colour_appears_in_the_pixels(tmp_path, name):
    _, image = render(tmp_path, name, (1080, 1920), params={"accent_color": "#ff00aa"})
    assert count_pixels(image, (255, 0, 170, 255)) > 500


def test_colour_background_and_gradient_fill_the_frame(tmp_path):
    _, plain = render(tmp_path, params={"background": "#102030"})
    assert plain.getpixel((2, 2)) == (16, 32, 48, 255)
    _, gradient = render(tmp_path, "text_quote", params={"background": ["#ff0000", "blue"]})
    top, bottom = gradient.getpixel((540, 0)), gradient.getpixel((540, 1919))
    assert top[0] > 240 and top[2] < 15 and bottom[2] > 240 and bottom[0] < 15


def test_image_background_covers_the_frame_and_is_dimmed(tmp_path):
    picture = tmp_path / "bg.png"
    Image.new("RGB", (64, 48), (200, 100, 0)).save(picture)
    params = {"background": "https://example.com/bg.png", "background_dim": 0.5}
    layout, image = render(tmp_path, "image_card", (1920, 1080), params,
                           background_image=picture)
    assert image.getpixel((3, 3)) == (100, 50, 0, 255)
    assert image.getpixel((1917, 1077)) == (100, 50, 0, 255)
    assert alpha_range(image, inset(layout.window, 0.2)) == (0, 0)


def test_an_unreadable_background_image_is_refused_on_the_background_field(tmp_path):
    fake = tmp_path / "bg.png"
    fake.write_text("#EXTM3U\nhttp://169.254.169.254/latest\n")
    with pytest.raises(TemplateError) as caught:
        render(tmp_path, background_image=fake)
    assert list(caught.value.fields) == ["background"]


def test_an_image_background_without_its_file_is_refused(tmp_path):
    params = {"background": "Qm9zY2hldHRvX2ltYWdlMQ.png"}
    assert background_reference(validate_params("image_default", params)) == params["background"]
    with pytest.raises(TemplateError) as caught:
        render(tmp_path, params=params)
    assert "background" in caught.value.fields


def test_hiding_title_and_index_draws_neither(tmp_path):
    layout, _ = render(tmp_path, "image_card", params={"show_title": False,
                                                      "show_index": False})
    assert set(layout.text_boxes) == {"text"}


def test_scaled_sizes_of_a_supported_shape_scale_the_layout(tmp_path):
    full, _ = render(tmp_path, size=(1080, 1920))
    small, image = render(tmp_path, size=(720, 1280))
    assert image.size == (720, 1280)
    assert all(abs(s - f * 2 / 3) <= 2 for s, f in zip(small.window, full.window, strict=True))


@pytest.mark.parametrize(("index", "total"), [(0, 6), (7, 6), (1, 0)])
def test_an_index_outside_one_to_total_is_refused(tmp_path, index, total):
    with pytest.raises(TemplateError) as caught:
        render(tmp_path, index=index, total=total)
    assert "index" in caught.value.fields


# --- names and sizes --------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("1080x1920/image_default.html", ("image_default", (1080, 1920))),
    ("1920x1080/image_split.html", ("image_split", (1920, 1080))),
    ("1080x1350/image_card", ("image_card", (1080, 1350))),
    ("text_quote", ("text_quote", None)),
    (" image_fullscreen.html ", ("image_fullscreen", None)),
])
def test_pixelle_style_names_resolve(name, expected):
    template, size = resolve_template(name)
    assert (template.name, size) == expected


@pytest.mark.parametrize("name", ["1080x1920/nope.html", "../../etc/passwd", "image_default.js",
                                  "1000x300/image_default.html", ""])
def test_unknown_templates_and_sizes_are_refused_with_fields(name):
    with pytest.raises(TemplateError) as caught:
        resolve_template(name)
    assert set(caught.value.fields) <= {"frame_template", "size"} and caught.value.fields


def test_a_name_for_one_shape_is_not_drawn_at_another(tmp_path):
    with pytest.raises(TemplateError) as caught:
        render(tmp_path, "1080x1920/image_default.html", (1920, 1080))
    assert "size" in caught.value.fields
    layout, _ = render(tmp_path, "1080x1920/image_default.html", (720, 1280))
    assert layout.window is not None


@pytest.mark.parametrize("size", SIZES)
def test_every_story_format_has_at_least_four_templates(size):
    names = template_names(*size)
    assert len(names) >= 4 and "image_default" in names


def test_shapes_that_are_not_story_formats_have_no_templates():
    assert template_names(1000, 300) == [] and template_names(108, 192) == []


def test_templates_describe_themselves_as_json():
    for name in TEMPLATES:
        described = json.loads(json.dumps(describe_template(name)))
        assert described["sizes"] == ["1080x1920", "1920x1080", "1080x1080", "1080x1350"]
        assert {"accent_color", "text_color", "font_scale", "show_index"} <= set(
            described["params"])
    assert "image" not in describe_template("text_quote")["placeholders"]


# --- parameters -------------------------------------------------------------------------------

def test_defaults_are_filled_in_and_cleaning_is_idempotent():
    cleaned = validate_params("1080x1920/image_default.html", {"accent_color": "#3498DB"})
    assert cleaned["accent_color"] == "#3498db" and cleaned["font_scale"] == 1.0
    assert validate_params("image_default", cleaned) == cleaned
    assert json.loads(json.dumps(cleaned)) == cleaned


@pytest.mark.parametrize(("value", "cleaned"), [
    ("#abc", "#aabbcc"), ("#AABBCC", "#aabbcc"), ("#11223380", "#11223380"),
    ("#abcf", "#aabbcc"), ("Navy", "#000080"), ("rebeccapurple", "#663399"),
])
def test_colours_are_accepted_as_hex_or_css_names(value, cleaned):
    assert validate_params("image_card", {"accent_color": value})["accent_color"] == cleaned


@pytest.mark.parametrize("value", ["#12", "#12345", "#ggg", "rgb(1,2,3)", "notacolour", 123,
                                   None, ["#fff"], "url(file:///etc/passwd)"])
def test_bad_colours_are_refused_on_their_field(value):
    with pytest.raises(TemplateError) as caught:
        validate_params("image_default", {"accent_color": value})
    assert list(caught.value.fields) == ["accent_color"]


def test_an_unknown_parameter_lists_the_allowed_ones():
    with pytest.raises(TemplateError) as caught:
        validate_params("image_fullscreen", {"accentColor": "#fff", "background": "#000"})
    fields = caught.value.fields
    assert set(fields) == {"accentColor", "background"}  # no background under a full picture
    assert "accent_color, text_color, font_scale" in caught.value.message
    assert "band_opacity" in fields["accentColor"][0]


@pytest.mark.parametrize(("params", "field"), [
    ({"font_scale": 3}, "font_scale"),
    ({"font_scale": float("nan")}, "font_scale"),
    ({"font_scale": "1.2"}, "font_scale"),
    ({"font_scale": True}, "font_scale"),
    ({"corner_radius": 12.5}, "corner_radius"),
    ({"corner_radius": -1}, "corner_radius"),
    ({"show_index": "yes"}, "show_index"),
    ({"background": ["#000", "#111", "#222"]}, "background"),
    ({"background": "/etc/passwd"}, "background"),
    ({"background": "file:///etc/passwd"}, "background"),
    ({"background": {"image": "x"}}, "background"),
])
def test_wrong_types_and_out_of_range_values_are_refused(params, field):
    with pytest.raises(TemplateError) as caught:
        validate_params("image_card", params)
    assert list(caught.value.fields) == [field]


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(TemplateError) as caught:
        validate_params("image_split", {"accent_color": "bad", "text_align": "justify",
                                        "band_opacity": 0.5})
    assert set(caught.value.fields) == {"accent_color", "text_align", "band_opacity"}
    assert caught.value.code == "invalid_template"


def test_params_that_are_not_an_object_are_refused():
    with pytest.raises(TemplateError) as caught:
        validate_params("image_default", ["accent_color"])
    assert "template_params" in caught.value.fields


def test_backgrounds_accept_a_colour_a_gradient_or_an_image_reference():
    clean = validate_params
    assert clean("image_default", {"background": "black"})["background"] == "#000000"
    assert clean("image_default", {"background": ["#fff", "#000"]})["background"] == [
        "#ffffff", "#000000"]
    url = "https://example.com/a.jpg"
    assert background_reference(clean("image_default", {"background": url})) == url
    assert background_reference(clean("image_default", {})) is None


def test_titles_in_other_scripts_are_drawn_with_their_glyphs(tmp_path):
    def render(title: str) -> bytes:
        out = tmp_path / f"{len(list(tmp_path.iterdir()))}.png"
        render_frame("image_card", width=540, height=960, params={}, title=title,
                            text="", index=1, total=1, out=out)
        with Image.open(out) as image:
            return image.convert("L").tobytes()

    # Empty boxes would look alike whatever the characters are.
    assert render("蜜蜂的一天") != render("一天的蜜蜂")
