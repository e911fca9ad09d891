"""The two stand-ins `bench/burst.py` gives the same burst of mentions as supportbot.

- ``bare``: a bolt `AsyncApp` (signing secret verified, bolt's aiohttp server) that
  acks every `app_mention` and posts one fixed reply in its thread. The floor: what
  acking and posting cost with nothing in between.
- ``naive``: the same app, but after the ack it makes two DeepSeek calls with httpx,
  one after the other (a JSON-mode triage, then the answer), and posts the answer in
  the thread. What a first version of a support bot would do: no inbox, no outbox, no
  database, nothing survives a restart, no pacing per channel.

Both ack the way bolt does by default (`process_before_response=False`: the listener
runs in the background once `ack()` is called), and both answer `GET /healthz`.

    .venv/bin/python -m bench.stand_ins bare|naive --port 3100 \
        --slack-api-url http://127.0.0.1:PORT/api/ --deepseek-url http://127.0.0.1:PORT
    (the secrets come from BURST_SIGNING_SECRET, BURST_BOT_TOKEN, BURST_DEEPSEEK_KEY)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from typing import Any

import httpx
from aiohttp import web
from slack_bolt.async_app import AsyncApp  # noqa: TID251 - a stand-in is a Slack app
from slack_sdk.web.async_client import AsyncWebClient  # noqa: TID251

__all__ = ["ANSWER_MARK", "FIXED_REPLY", "build_app", "main"]

ANSWER_MARK = "BURST-ANSWER"
FIXED_REPLY = f"{ANSWER_MARK} Thanks, we got your question and will get back to you."
TRIAGE_SYSTEM = (
    "Classify the support request. Reply with one JSON object: "
    '{"category": "billing|bug|feature_request|account|other", "urgency": "low|medium|high", '
    '"summary": "...", "needs_human": false, "confidence": 0.9}'
)
ANSWER_SYSTEM = "You are a helpful support agent. Answer the user's question briefly."


class NaiveModel:
    """Two chat completions per question, in series, on one shared httpx client."""

    def __init__(self, base_url: str, api_key: str, model: str = "deepseek-chat") -> None:
        # No cap, so the stand-in never queues on its own pool, and no keep-alive: with
        # hundreds of idle connections httpx's pool spends milliseconds of CPU per request
        # (measured: 200 concurrent requests on 200 reused connections took 7.4 s, 5.4 s
        # of it CPU, against 2.6 s on fresh ones), which would bill httpx to the design.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=120,
            limits=limits,
        )
        self._model = model

    async def _chat(self, system: str, user: str, *, json_mode: bool) -> str:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        }
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        response = await self._http.post("/chat/completions", json=body)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    async def answer(self, question: str) -> str:
        """Triage, then answer: the two calls a naive bot makes."""
        verdict = await self._chat(TRIAGE_SYSTEM, question, json_mode=True)
        prompt = f"Triage: {verdict}\nQuestion: {question}"
        return await self._chat(ANSWER_SYSTEM, prompt, json_mode=False)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()


def build_app(
    kind: str, *, slack_api_url: str, bot_token: str, signing_secret: str, model: NaiveModel | None
) -> AsyncApp:
    """The bolt app for `kind` ("bare" or "naive")."""
    client = AsyncWebClient(token=bot_token, base_url=slack_api_url)
    app = AsyncApp(client=client, signing_secret=signing_secret)

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], ack: Any, client: AsyncWebClient) -> None:
        await ack()
        text = FIXED_REPLY
        if model is not None:
            text = await model.answer(str(event.get("text", "")))
        await client.chat_postMessage(
            channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text=text
        )

    @app.event("reaction_added")  # the warm-up event: acked, nothing else
    async def on_reaction(ack: Any) -> None:
        await ack()

    return app


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def serve(args: argparse.Namespace) -> None:
    """Serve the stand-in until SIGTERM or SIGINT."""
    model = None
    if args.kind == "naive":
        model = NaiveModel(args.deepseek_url, os.environ.get("BURST_DEEPSEEK_KEY", ""))
    app = build_app(
        args.kind,
        slack_api_url=args.slack_api_url,
        bot_token=os.environ["BURST_BOT_TOKEN"],
        signing_secret=os.environ["BURST_SIGNING_SECRET"],
        model=model,
    )
    web_app = app.web_app(path="/slack/events", port=args.port)
    web_app.router.add_get("/healthz", _healthz)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await stopping.wait()
    finally:
        await runner.cleanup()
        if model is not None:
            await model.aclose()


def main() -> None:
    """`python -m bench.stand_ins bare|naive --port N --slack-api-url URL [--deepseek-url URL]`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["bare", "naive"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slack-api-url", required=True)
    parser.add_argument("--deepseek-url", default="")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
