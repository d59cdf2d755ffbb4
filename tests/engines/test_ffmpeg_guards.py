"""What may reach ffmpeg: guarded inputs (no playlists, no network) and escaped user text."""

import socket
import threading
from pathlib import Path

import pytest

from engines.base import EngineError
from engines.ffmpeg import (
    clean_text,
    escape_filter_text,
    font_path,
    input_args,
    lavfi_input,
    probe,
    run_ffmpeg,
    write_text_file,
)

HOSTILE_TEXTS = [
    "it's \"quoted\"",
    "back\\slash \\\\ double \\' quote-escape",
    "colon: semi; comma, [brackets] =equals",
    "%{pts} %{n} %{localtime} %{eif:1:d} %{e:t*2}",
    "x':textfile=/etc/hostname:y='",
    "'\\",
    "line one\nline two\n",
    "émoji 😀 accents àéîõü CJK 中文字 한국어",
    "  leading and trailing  ",
    "[out];movie=/etc/passwd[x];[x][in]overlay",
    "%",
    "'",
]


class Listener:
    """A TCP server on a free loopback port that counts connections."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def playlist(path: Path, url: str) -> Path:
    path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{url}\n#EXT-X-ENDLIST\n")
    return path


def test_input_args_pin_protocols_and_demuxers(tmp_path):
    args = input_args(tmp_path / "a.mp4", formats=("mov", "mp4"))
    assert args[:4] == ["-protocol_whitelist", "file,pipe", "-format_whitelist", "mov,mp4"]
    assert args[-2:] == ["-i", f"file:{(tmp_path / 'a.mp4').resolve()}"]


@pytest.mark.parametrize("formats", [("hls",), ("concat",), ("mp4", "dash"),
                                     ("webm_dash_manifest",), ("tee",), ()])
def test_input_args_refuse_playlists_and_unknown_demuxers(tmp_path, formats):
    with pytest.raises(ValueError):
        input_args(tmp_path / "a.mp4", formats=formats)


def test_a_name_that_looks_like_a_url_or_an_option_stays_a_file_name(tmp_path):
    args = input_args(Path("http:/127.0.0.1:9/x.mp4"))
    assert args[-1].startswith("file:/")
    assert input_args(Path("-y"))[-1].startswith("file:/")


@pytest.mark.parametrize("port", ["9", "listener"])
def test_an_hls_playlist_named_mp4_is_refused_without_any_connection(tmp_path, listener, port):
    port = str(listener.port) if port == "listener" else port
    evil = playlist(tmp_path / "clip.mp4", f"http://127.0.0.1:{port}/secret.ts")
    with pytest.raises(EngineError) as info:
        probe(evil)
    assert info.value.code == "unsupported_media"
    assert "not on whitelist" in info.value.detail["stderr"]
    with pytest.raises(EngineError) as info:
        run_ffmpeg([*input_args(evil), "-f", "null", "-"], timeout=30)
    assert info.value.code == "ffmpeg_failed"
    assert listener.connections == 0


def test_a_file_url_playlist_does_not_pull_in_local_files(tmp_path):
    secret = make_secret(tmp_path)
    evil = playlist(tmp_path / "clip.mp4", f"file://{secret}")
    with pytest.raises(EngineError):
        run_ffmpeg([*input_args(evil), "-f", "null", "-"], timeout=30)


def test_a_concat_script_is_refused(tmp_path):
    script = tmp_path / "clip.mp4"
    script.write_text("ffconcat version 1.0\nfile /etc/hostname\n")
    with pytest.raises(EngineError) as info:
        probe(script)
    assert info.value.code == "unsupported_media"


def make_secret(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET 1234")
    return secret


def draw(tmp_path: Path, option: str, name: str) -> bytes:
    """Raw grey pixels of one 320x64 frame with a drawtext filter using `option`."""
    out = tmp_path / name
    graph = (f"color=c=black:s=320x64:r=1,drawtext=fontfile={escape_filter_text(str(font_path()))}"
             f":expansion=none:fontcolor=white:fontsize=14:x=2:y=2:{option}")
    run_ffmpeg([*lavfi_input(graph), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray",
                str(out)], timeout=30)
    return out.read_bytes()


def draw_text(tmp_path: Path, text: str) -> bytes:
    return draw(tmp_path, f"text={escape_filter_text(text)}", "text.raw")


def draw_file(tmp_path: Path, text: str) -> bytes:
    path = write_text_file(tmp_path, "user.txt", text)
    return draw(tmp_path, f"textfile={escape_filter_text(str(path))}", "file.raw")


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_escaped_text_renders_exactly_like_the_same_text_from_a_file(tmp_path, text):
    """Both ways reach drawtext as the literal string: the pixels are equal."""
    assert draw_text(tmp_path, text) == draw_file(tmp_path, text)


def test_expansions_are_not_expanded(tmp_path):
    assert draw_text(tmp_path, "%{pts}") != draw_text(tmp_path, "0.000000")
    assert draw_text(tmp_path, "%{n}") != draw_text(tmp_path, "0")
    assert draw_file(tmp_path, "%{pts}") != draw_file(tmp_path, "0.000000")


def test_escapes_are_not_interpreted(tmp_path):
    assert draw_text(tmp_path, "a\\:b") != draw_text(tmp_path, "a:b")
    assert draw_text(tmp_path, "a\\nb") != draw_text(tmp_path, "a\nb")
    assert draw_text(tmp_path, "x") != draw_text(tmp_path, "")


def test_text_cannot_smuggle_in_a_textfile_option(tmp_path):
    secret = make_secret(tmp_path)
    for trick in (f"x':textfile={secret}:y='", f"x:textfile={secret}",
                  f"x\\':textfile={secret}", f"'%{{e:1}}':textfile={secret}"):
        rendered = draw_text(tmp_path, trick)
        assert rendered == draw_file(tmp_path, trick)
        assert rendered != draw_file(tmp_path, secret.read_text())


def test_paths_with_special_characters_are_escaped_too(tmp_path):
    odd = tmp_path / "we:ird,[dir]; it's \\ here"
    odd.mkdir()
    path = write_text_file(odd, "user.txt", "hello")
    rendered = draw(tmp_path, f"textfile={escape_filter_text(str(path))}", "odd.raw")
    assert rendered == draw_text(tmp_path, "hello")


def test_clean_text_drops_control_characters_but_keeps_lines_and_unicode():
    assert clean_text("a\x00b\x1b[31mc\x7f\r\nd\te 😀") == "ab[31mc\nd e 😀"


@pytest.mark.parametrize("name", ["../x.txt", ".hidden", "a/b.txt"])
def test_text_files_get_plain_names_only(tmp_path, name):
    with pytest.raises(ValueError):
        write_text_file(tmp_path, name, "x")
