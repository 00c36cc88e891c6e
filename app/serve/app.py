"""The ``kexue serve`` application: the OpenAI-compatible API, the MCP server at /mcp and the chat UI at /chat."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from app import __version__
from app.answering import Answerer
from app.serve.auth import BearerKey
from app.serve.errors import install_error_handlers
from app.serve.openai_routes import router

UI_PATH = "/chat"
MCP_PATH = "/mcp"


def create_app(answerer: Answerer, api_key: str | None = None, ui: bool = True, mcp: bool = True,
               host: str = "127.0.0.1", ui_auth: tuple[str, str] | None = None) -> FastAPI:
    """The server's ASGI app. With ``api_key`` every /v1 and /mcp request must carry it as a bearer token;
    ``ui_auth`` (user, password) guards the chat UI."""
    mcp_app = None
    if mcp:
        from app.serve.mcp_tools import build_mcp

        mcp_server = build_mcp(answerer, host=host)
        mcp_app = mcp_server.streamable_http_app()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if mcp_app is not None:
                await stack.enter_async_context(mcp_server.session_manager.run())
            yield

    app = FastAPI(title="科学空间问答", version=__version__, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.answerer = answerer
    install_error_handlers(app)
    app.include_router(router)
    if mcp_app is not None:
        app.router.routes.extend(mcp_app.routes)  # the streamable HTTP endpoint, at /mcp

    @app.get("/", include_in_schema=False)
    async def root() -> Any:
        if ui:
            return RedirectResponse(UI_PATH + "/")
        return {"name": "科学空间问答", "openai_base_url": "/v1", "mcp": MCP_PATH if mcp else None}

    if ui:
        mount_ui(app, answerer, ui_auth)
    if api_key:
        app.add_middleware(BearerKey, key=api_key)
    return app


def mount_ui(app: FastAPI, answerer: Answerer, auth: tuple[str, str] | None) -> None:
    """The Gradio chat UI (the same page as ``kexue chat``) at /chat."""
    import gradio as gr

    from app.ui import assets
    from app.ui.layout import QUEUE_SIZE, build_app

    blocks = build_app(answerer).queue(max_size=QUEUE_SIZE)
    gr.mount_gradio_app(app, blocks, path=UI_PATH, auth=auth, show_error=False, ssr_mode=False, mcp_server=False,
                        footer_links=["api"], theme=assets.theme(), css=assets.CSS, js=assets.RUN_BUTTON_JS)
