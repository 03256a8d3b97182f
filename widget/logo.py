"""The widget's logo/avatar: an uploaded image checked, decoded and re-encoded as a small PNG.

Why re-encode: the bytes served to visitors are then pixels Pillow wrote, never the upload
(no SVG with script, no HTML polyglot, no metadata such as GPS positions). The PNG lives in
the site's schema (WidgetSettings.logo) and is served from Cloop's origin by
`widget.views.logo` under a content hash, with `nosniff` and a CSP that allows nothing.
"""

from __future__ import annotations

import hashlib
import io

from django.core.exceptions import ValidationError

LOGO_MAX_BYTES = 512 * 1024  # the upload; the stored PNG is far smaller
LOGO_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
LOGO_SIZE = 128  # px, the longer side of the stored image (shown at 28 px, sharp at 4x)
LOGO_MAX_PIXELS = 4096 * 4096  # refuses decompression bombs before decoding


def logo_clean(upload) -> bytes:
    """PNG bytes (at most 128 × 128) of an uploaded PNG, JPEG, GIF or WebP image.

    `upload` is a Django UploadedFile (or any object with `size` and `read()`). Raises
    ValidationError with a message for the form: too big, not an image, another format.
    """
    from PIL import Image, UnidentifiedImageError

    if upload.size > LOGO_MAX_BYTES:
        raise ValidationError(f"The logo is at most {LOGO_MAX_BYTES // 1024} KB.")
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in LOGO_FORMATS:
                raise ValidationError("The logo must be a PNG, JPEG, GIF or WebP image.")
            if img.width * img.height > LOGO_MAX_PIXELS:
                raise ValidationError("The logo is too large (at most 4096 × 4096 pixels).")
            img.seek(0)  # the first frame of an animation
            img = img.convert("RGBA")
            img.thumbnail((LOGO_SIZE, LOGO_SIZE))
            out = io.BytesIO()
            img.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError("The logo must be a PNG, JPEG, GIF or WebP image.") from None
    return out.getvalue()


def logo_digest(png: bytes) -> str:
    """The logo's name in its URL: a new logo gets a new URL, so it can be cached for long."""
    return hashlib.sha256(png).hexdigest()[:16]
