"""What a story request may ask for: formats, sizes, sources, styles, and their defaults."""

FORMATS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5)}
RESOLUTIONS = {"480p": 480, "720p": 720, "1080p": 1080}
FPS = 30

SOURCES = ("stock", "ai_scenery", "ai_video", "background_youtube", "background_minecraft",
           "background_subway", "assets")
BACKGROUNDS = ("background_youtube", "background_minecraft", "background_subway")
CAPTION_STYLES = ("classic", "clonevest", "segnals")
CAPTION_POSITIONS = ("top", "center", "bottom")
MOODS = ("calm", "upbeat", "dramatic", "inspiring", "dark", "happy")

DEFAULT_SCENES = 5
MAX_SCENES = 20
# Silence after each scene's narration, so sentences do not run into each other.
SCENE_TAIL = 0.35
# Still images and generated clips are given this long when a scene has no narration yet.
MIN_SCENE = 1.5


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def output_size(video_format: str, short_side: int) -> tuple[int, int]:
    """(width, height) for a format whose shorter side is `short_side` pixels."""
    a, b = FORMATS[video_format]
    if a >= b:
        return _even(short_side * a / b), _even(short_side)
    return _even(short_side), _even(short_side * b / a)


def orientation(video_format: str) -> str:
    a, b = FORMATS[video_format]
    return "landscape" if a > b else "portrait" if b > a else "square"


def model_size(video_format: str, *, area: int, multiple: int) -> tuple[int, int]:
    """A generation size of about `area` pixels in the format's aspect, in the model's
    size multiple (e.g. 576x1024 for 9:16 on a 1024x1024 image model)."""
    a, b = FORMATS[video_format]
    unit = (area / (a * b)) ** 0.5
    width = max(multiple, int(a * unit) // multiple * multiple)
    height = max(multiple, int(b * unit) // multiple * multiple)
    return width, height
