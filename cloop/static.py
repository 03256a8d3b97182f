"""WhiteNoise for static files, with an asynchronous body under ASGI.

WhiteNoise answers with a FileResponse over a synchronous file iterator (an empty one for a
304 to a browser's conditional request, or a HEAD). Under ASGI, Django then warns
"StreamingHttpResponse must consume synchronous iterators in order to serve them
asynchronously" on every file and reads the whole file into a list in a worker thread. Here
the same open file is read in blocks through `sync_to_async`, so the event loop never blocks
on disk and nothing warns. Under WSGI (and the sync test client) the response is untouched.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse
from whitenoise.middleware import WhiteNoiseMiddleware

BLOCK = 64 * 1024


async def _blocks(filelike):
    read = sync_to_async(filelike.read, thread_sensitive=False)
    while block := await read(BLOCK):
        yield block


async def _each(iterable):
    items = iter(iterable)
    step = sync_to_async(lambda: next(items, None), thread_sensitive=False)
    while (item := await step()) is not None:
        yield item


class AsyncFileWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    def __call__(self, request):
        response = super().__call__(request)
        if (
            isinstance(request, ASGIRequest)
            and isinstance(response, FileResponse)
            and not response.is_async
        ):
            if response.file_to_stream is not None:
                # The file stays registered for closing when the response closes.
                response.streaming_content = _blocks(response.file_to_stream)
            else:
                # No file: a 304 to a browser's conditional request on reload, or a HEAD
                # request. WhiteNoise gives an empty iterable; it warned all the same.
                response.streaming_content = _each(response.streaming_content)
        return response
