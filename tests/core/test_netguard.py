import pytest

from core.netguard import UnsafeUrl, address_is_public, check_url, safe_request
from tests.fakes.http_receiver import Receiver


@pytest.mark.parametrize("ip", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
    "64:ff9b::7f00:1", "2002:7f00:1::", "198.18.0.1", "255.255.255.255",
])
def test_private_reserved_and_embedded_addresses_are_not_public(ip):
    assert address_is_public(ip) is False


@pytest.mark.parametrize("ip", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_public(ip):
    assert address_is_public(ip) is True


@pytest.mark.parametrize("url", [
    "ftp://example.com/x", "file:///etc/passwd", "gopher://x", "http://user:pw@example.com/",
    "http://127.0.0.1/", "http://localhost/", "http://[::1]/", "http://169.254.169.254/latest",
    "http://2130706433/", "http://0x7f.1/", "http://example.com:8080/", "http:///nohost",
])
def test_unsafe_urls_are_refused(url):
    with pytest.raises(UnsafeUrl):
        check_url(url)


def test_every_redirect_hop_is_checked_again():
    # Loopback is allowed here only so that the first hop can be served by a test server.
    with Receiver(statuses=(302,), headers={"Location": "file:///etc/passwd"}) as receiver:
        with pytest.raises(UnsafeUrl, match="http and https"):
            safe_request("GET", receiver.url, max_redirects=2, allow_private=True)
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed_unless_allowed():
    with Receiver(statuses=(302,), headers={"Location": "http://127.0.0.1:9/"}) as receiver:
        response = safe_request("GET", receiver.url, allow_private=True)
    assert response.status == 302


def test_loopback_is_refused_before_any_connection():
    with Receiver() as receiver, pytest.raises(UnsafeUrl, match="private"):
        safe_request("GET", receiver.url)
    assert receiver.requests == []


def test_responses_are_capped(tmp_path):
    with Receiver(body=b"x" * 5000) as receiver, pytest.raises(UnsafeUrl) as exc:
        safe_request("GET", receiver.url, max_bytes=1000, allow_private=True)
    assert exc.value.code == "response_too_large"


def test_safe_request_fetches_from_an_allowed_server():
    with Receiver(body=b"hello") as receiver:
        response = safe_request("GET", receiver.url + "/a?b=1", allow_private=True)
    assert response.status == 200 and response.body == b"hello"
    assert receiver.requests[0]["path"] == "/a?b=1"


def test_a_download_can_stream_into_a_file_instead_of_memory(tmp_path):
    target = tmp_path / "download.bin"
    with Receiver(body=b"x" * 200_000) as receiver:
        with target.open("wb") as sink:
            response = safe_request("GET", receiver.url, allow_private=True,
                                    max_bytes=300_000, sink=sink)
    assert response.status == 200 and response.body == b""
    assert target.read_bytes() == b"x" * 200_000
