"""CPU per streamed chunk of `llm_stream` alone (litellm + OpenAI SDK, no Cloop server, no pacing).

Usage: .venv/bin/python bench/chat_litellm_cpu.py [STREAMS] [TOKENS] [--variants] [--profile]

Starts `bench/chat_llm_server.py` with no delay between tokens, runs STREAMS (default 200)
parallel `conversations.chat.llm.llm_stream` calls of TOKENS (default 100) chunks on one event loop
(`openai/gpt-4o-mini` over real loopback HTTP) and prints the CPU time per chunk of this
process. `--variants` repeats the run with each litellm setting that could plausibly cut
per-chunk work, in a fresh process each; `--profile` prints a cProfile of the baseline.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

from chat_common import ROOT, free_port

VARIANTS = {
    "baseline (llm.py settings)": "",
    "disable_token_counter": "litellm.disable_token_counter = True",
    "logging off": "litellm.logging = False",
    "httpx instead of aiohttp": "litellm.disable_aiohttp_transport = True",
    "message logging on": "litellm.turn_off_message_logging = False",
    "include_usage in stream": "STREAM_KW['stream_options'] = {'include_usage': True}",
}
STREAM_KW: dict = {}


async def _one(llm_stream, model: str) -> int:
    n = 0
    async for _piece in llm_stream([{"role": "user", "content": "hi"}], model=model):
        n += 1
    return n


async def _run(streams: int) -> tuple[int, float, float]:
    from conversations.chat.llm import llm_stream

    model = "openai/gpt-4o-mini"
    await _one(llm_stream, model)  # warm-up: imports, tokenizer, HTTP client
    wall0, cpu0 = time.perf_counter(), time.process_time()
    counts = await asyncio.gather(*(_one(llm_stream, model) for _ in range(streams)))
    return sum(counts), time.perf_counter() - wall0, time.process_time() - cpu0


def child(port: int, streams: int, pre: str, profile: bool) -> None:
    from django.conf import settings

    settings.configure(
        CLOOP_LLM_MODEL="openai/gpt-4o-mini",
        CLOOP_LLM_FIRST_TOKEN_TIMEOUT=15,
        CLOOP_LLM_TOTAL_TIMEOUT=60,
    )
    os.environ["OPENAI_API_BASE"] = f"http://127.0.0.1:{port}/v1"
    os.environ["OPENAI_API_KEY"] = "sk-bench"
    import conversations.chat.llm  # first: sets LITELLM_LOCAL_MODEL_COST_MAP and Cloop's settings

    litellm = conversations.chat.llm.litellm

    exec(pre, {"litellm": litellm, "STREAM_KW": STREAM_KW})  # noqa: S102 - fixed strings above
    if STREAM_KW:
        original = litellm.acompletion

        async def acompletion(*args, **kwargs):
            return await original(*args, **kwargs, **STREAM_KW)

        conversations.chat.llm.litellm.acompletion = acompletion
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        chunks, wall, cpu = asyncio.run(_run(streams))
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
    else:
        chunks, wall, cpu = asyncio.run(_run(streams))
    print(
        f"{chunks} chunks, wall {wall:.2f} s, CPU {cpu:.2f} s = {cpu / chunks * 1000:.3f} ms per chunk"
    )


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    streams = int(args[0]) if args else 200
    tokens = int(args[1]) if len(args) > 1 else 100
    port = free_port()
    server_script = str(ROOT / "bench" / "chat_llm_server.py")
    server = subprocess.Popen([sys.executable, server_script, str(port), str(tokens), "0"])  # noqa: S603
    try:
        time.sleep(1.0)
        chosen = VARIANTS if "--variants" in sys.argv else {"baseline (llm.py settings)": ""}
        for name, pre in chosen.items():
            print(f"{name}: ", end="", flush=True)
            subprocess.run(  # noqa: S603
                [sys.executable, __file__, "--child", str(port), str(streams), pre]
                + (["--profile"] if "--profile" in sys.argv else []),
                check=True,
                cwd=ROOT,
            )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    if "--child" in sys.argv:
        i = sys.argv.index("--child")
        child(int(sys.argv[i + 1]), int(sys.argv[i + 2]), sys.argv[i + 3], "--profile" in sys.argv)
    else:
        main()
