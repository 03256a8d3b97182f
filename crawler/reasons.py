"""Why a URL was not indexed: the words of the crawl report."""

ROBOTS = "robots"  # disallowed by robots.txt (or robots.txt unreachable)
EXCLUDED = "excluded"  # include/exclude patterns
TRAP = "URL trap"  # an endless URL space; the detail starts with the rule (crawler.traps)
OFF_SITE = "off-site"  # host not in the allowed hosts
NOT_HTML = "not HTML"  # content type or content is not HTML
TOO_LARGE = "too large"  # over the 10 MiB cap
HTTP_STATUS = "HTTP status"  # 4xx/5xx after retries
DUPLICATE = "duplicate"  # same content or canonical elsewhere
NOINDEX = "noindex"  # robots meta tag or X-Robots-Tag
BUDGET = "budget"  # page budget of the crawl used up
REDIRECT = "redirect"  # too many redirects, a loop, or a redirect to a bad URL
BLOCKED = "blocked address"  # SSRF guard: not a public address / port
ERROR = "error"  # network error or timeout after retries
EMPTY = "no content"  # HTML with no text in its main content
BAD_URL = "bad URL"

ALL = (
    ROBOTS,
    EXCLUDED,
    TRAP,
    OFF_SITE,
    NOT_HTML,
    TOO_LARGE,
    HTTP_STATUS,
    DUPLICATE,
    NOINDEX,
    BUDGET,
    REDIRECT,
    BLOCKED,
    ERROR,
    EMPTY,
    BAD_URL,
)
# Reasons that count as errors in the run's summary (the rest are policy decisions).
ERRORS = (ERROR, HTTP_STATUS, BLOCKED, REDIRECT)
