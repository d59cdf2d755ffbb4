"""The words of a story: scenes, keywords and derived details (no Django, no engines)."""

from studio.stories.options import model_size, output_size
from studio.stories.script import derived_details, keywords, split_scenes


def test_paragraphs_are_the_scenes_when_no_count_is_asked():
    assert split_scenes("One. Two.\n\nThree.\n\nFour.", None) == ["One. Two.", "Three.", "Four."]


def test_sentences_are_merged_down_to_the_asked_count():
    scenes = split_scenes("A one. B two. C three. D four. E five.", 2)
    assert len(scenes) == 2
    assert " ".join(scenes) == "A one. B two. C three. D four. E five."


def test_a_count_above_the_sentences_gives_one_scene_per_sentence():
    assert split_scenes("Only one. And two.", 5) == ["Only one.", "And two."]


def test_a_single_paragraph_is_split_by_sentences():
    assert split_scenes("First. Second! Third?", None) == ["First.", "Second!", "Third?"]


def test_keywords_skip_stop_words_and_prefer_repeated_long_words():
    assert keywords("The forest and the river: the forest is green.")[:2] == ["forest", "river"]


def test_derived_details_come_from_the_script_and_say_so():
    details = derived_details(title="", script="Volcanoes shape islands. Lava cools fast.")
    assert details["youtube_title"] == "Volcanoes shape islands."
    assert details["derived"] is True
    assert "#volcanoes" in details["hashtags"]


def test_sizes_follow_the_format_and_stay_even():
    assert output_size("9:16", 1080) == (1080, 1920)
    assert output_size("16:9", 480) == (854, 480)
    assert output_size("4:5", 720) == (720, 900)
    assert output_size("1:1", 720) == (720, 720)
    assert model_size("9:16", area=1024 * 1024, multiple=16) == (768, 1360)


def test_chinese_and_japanese_scripts_split_at_their_sentence_ends():
    script = "東京は眠らない街です。夜も明るい。人々は働き続けます！"
    assert split_scenes(script, None) == ["東京は眠らない街です。", "夜も明るい。",
                                          "人々は働き続けます！"]
    # Merged scenes are joined without a space between the characters.
    assert split_scenes(script, 2) == ["東京は眠らない街です。", "夜も明るい。人々は働き続けます！"]
