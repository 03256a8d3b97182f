"""Models of this app live in each site's own schema (a TENANT_APP)."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from tenants.scoping import SiteSingleton
from widget.colors import contrast_warnings
from widget.logo import logo_clean, logo_digest

hex_color_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", "Give the colour as #rrggbb, for example #1f6feb."
)


def validate_starter_questions(value):
    if not isinstance(value, list) or not all(isinstance(q, str) for q in value):
        raise ValidationError("Starter questions are a list of texts.")
    if len(value) > 6:
        raise ValidationError("At most 6 starter questions.")
    if any(len(q) > 200 for q in value):
        raise ValidationError("A starter question is at most 200 characters.")


class WidgetSettings(SiteSingleton):
    """How the chat window looks and greets visitors on this site (one row per site schema).

    Empty texts mean "use the default wording in the site's language" (widget/strings.py).
    """

    POSITION_CHOICES = [("right", "Bottom right"), ("left", "Bottom left")]

    bot_name = models.CharField(max_length=60, blank=True)
    greeting = models.TextField(max_length=500, blank=True)
    starter_questions = models.JSONField(
        default=list, blank=True, validators=[validate_starter_questions]
    )
    primary_color = models.CharField(
        max_length=7, default="#1f5fbf", validators=[hex_color_validator]
    )
    position = models.CharField(max_length=5, choices=POSITION_CHOICES, default="right")
    privacy_url = models.URLField(
        "privacy notice URL",
        max_length=500,
        blank=True,
        help_text="Leave empty to link the notice Cloop publishes for this site.",
    )
    consent_text = models.TextField(
        "marketing consent wording",
        max_length=500,
        blank=True,
        help_text="Shown beside the unticked marketing box of the e-mail form.",
    )
    # A PNG re-encoded by widget.logo.logo_clean (at most 128 px), served from Cloop's origin.
    logo = models.BinaryField(blank=True, default=b"", editable=False)
    logo_hash = models.CharField(max_length=16, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "widget settings"
        verbose_name_plural = "widget settings"

    def __str__(self):
        return "Widget settings"

    def logo_set(self, upload) -> None:
        """Validate and store an uploaded logo (ValidationError if refused); None removes it.
        Saved by the caller."""
        if upload is None:
            self.logo, self.logo_hash = b"", ""
            return
        png = logo_clean(upload)
        self.logo, self.logo_hash = png, logo_digest(png)

    def contrast_warnings(self) -> list[str]:
        """WCAG AA warnings for the brand colour (widget.colors), shown when the form saves."""
        return contrast_warnings(self.primary_color)


class EmbedCheck(SiteSingleton):
    """Where the widget was last loaded from, for the customer's install page (one row per site).

    Written by the loader's config request (`widget.embed.embed_record`), at most once a minute
    per site and kind. It holds a page's origin and path only: no query string, no visitor id,
    no IP address, nothing that says who opened the page.
    """

    seen_origin = models.CharField(max_length=300, blank=True)
    seen_path = models.CharField(max_length=300, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    refused_origin = models.CharField(max_length=300, blank=True)
    refused_path = models.CharField(max_length=300, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "install"
        verbose_name_plural = "install"

    def __str__(self):
        return "Install"
