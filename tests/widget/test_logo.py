"""The widget's logo upload: only real images, re-encoded small, served inert from Cloop."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from widget.logo import LOGO_SIZE, logo_clean


def image_bytes(fmt: str, size=(600, 300), color=(20, 60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_it_accepts_an_image_and_stores_a_small_png(fmt):
    png = logo_clean(SimpleUploadedFile(f"logo.{fmt.lower()}", image_bytes(fmt)))
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG"
        assert max(img.size) == LOGO_SIZE and img.size == (128, 64)


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<html><script>alert(1)</script></html>",
        b"GIF89a" + b"\x00" * 20,  # a header and nothing behind it
        image_bytes("BMP", size=(40, 40)),  # an image, but not a format we take
    ],
)
def test_it_refuses_what_is_not_a_png_jpeg_gif_or_webp(data):
    with pytest.raises(ValidationError, match="PNG, JPEG, GIF or WebP"):
        logo_clean(SimpleUploadedFile("logo.png", data, content_type="image/png"))


def test_it_refuses_an_upload_over_512_kb():
    big = SimpleUploadedFile("logo.png", b"\x89PNG" + b"\x00" * (512 * 1024))
    with pytest.raises(ValidationError, match="512 KB"):
        logo_clean(big)


def test_it_serves_the_logo_by_hash_with_inert_headers(in_site_a, client, settings):
    from django.db import connection

    from widget.models import WidgetSettings

    ws = WidgetSettings.load()
    ws.logo_set(SimpleUploadedFile("logo.png", image_bytes("PNG")))
    ws.save()
    connection.set_schema_to_public()
    response = client.get(f"/widget/logo/{in_site_a.site_id}/{ws.logo_hash}.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert bytes(response.content) == bytes(ws.logo)
    assert client.get(f"/widget/logo/{in_site_a.site_id}/0123456789abcdef.png").status_code == 404
    assert "Set-Cookie" not in response
