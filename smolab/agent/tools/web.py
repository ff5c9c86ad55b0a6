"""Research tools that reach the network: arXiv search, Hugging Face models and datasets,
documentation pages, GitHub code search. Each needs the network approved, and fails with
one line when the service cannot be reached."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import httpx

from ..policy import Action
from .base import Tool, ToolError, make_tool

ATOM = "{http://www.w3.org/2005/Atom}"
PAGE_CHARS = 12_000


@dataclass(frozen=True)
class Endpoints:
    arxiv_api: str = "https://export.arxiv.org/api/query"
    huggingface: str = "https://huggingface.co"
    github_api: str = "https://api.github.com"
    timeout: float = 20.0


class Web:
    def __init__(self, endpoints: Endpoints):
        self.ep = endpoints
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        # Made on first use: loading the system's certificates costs tens of milliseconds.
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.ep.timeout, follow_redirects=True, headers={"User-Agent": "smolab-agent"}
            )
        return self._client

    def get(self, url: str, **kw: Any) -> httpx.Response:
        host = urlparse(url).netloc or url
        try:
            r = self.client.get(url, **kw)
        except httpx.TimeoutException:
            raise ToolError(f"{host} did not answer within {self.ep.timeout:g} s; try again later") from None
        except httpx.TransportError:
            raise ToolError(f"cannot reach {host}: offline or blocked; work from what you have") from None
        if r.status_code == 404:
            raise ToolError(f"{url} was not found (404)")
        if r.status_code >= 400:
            raise ToolError(f"{host} answered {r.status_code}: {r.text[:120].strip()}")
        return r

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _text(el: ET.Element | None) -> str:
    return " ".join((el.text or "").split()) if el is not None else ""


def web_tools(web: Web) -> list[Tool]:
    ep = web.ep

    def net(tool: str, key: str | None = None):  # type: ignore[no-untyped-def]
        return lambda args: Action("network", tool, str(args[key]) if key else tool)

    def search_papers(query: str, max_results: int = 5) -> list[dict[str, str]]:
        """Search arXiv; returns id, title, first authors, date and the abstract's start for each paper."""
        r = web.get(
            ep.arxiv_api,
            params={
                "search_query": f"all:{query}",
                "start": 0,
                "max_results": max(1, min(int(max_results), 20)),
            },
        )
        try:
            root = ET.fromstring(r.text)
        except ET.ParseError:
            raise ToolError("arXiv's answer was not the Atom feed expected; try again later") from None
        papers = []
        for entry in root.iter(f"{ATOM}entry"):
            ident = _text(entry.find(f"{ATOM}id")).rsplit("/abs/", 1)[-1]
            authors = [_text(a.find(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author")]
            papers.append(
                {
                    "id": ident,
                    "title": _text(entry.find(f"{ATOM}title")),
                    "authors": ", ".join(authors[:3]) + (" et al." if len(authors) > 3 else ""),
                    "published": _text(entry.find(f"{ATOM}published"))[:10],
                    "abstract": _text(entry.find(f"{ATOM}summary"))[:400],
                }
            )
        return papers

    def search_hub(query: str, kind: str = "model", limit: int = 5) -> list[dict[str, Any]]:
        """Search the Hugging Face hub for models or datasets (kind='model' or 'dataset')."""
        if kind not in ("model", "dataset"):
            raise ToolError("kind must be 'model' or 'dataset'")
        r = web.get(
            f"{ep.huggingface}/api/{kind}s",
            params={"search": query, "limit": max(1, min(int(limit), 20)), "sort": "downloads"},
        )
        found = []
        for item in r.json():
            found.append(
                {
                    "id": item.get("id") or item.get("modelId"),
                    "downloads": item.get("downloads"),
                    "likes": item.get("likes"),
                    "tags": (item.get("tags") or [])[:8],
                }
            )
        return found

    def dataset_card(dataset: str) -> str:
        """A Hugging Face dataset's card (its README): what it holds, its splits and license."""
        r = web.get(f"{ep.huggingface}/datasets/{dataset}/raw/main/README.md")
        return r.text[:PAGE_CHARS]

    def fetch_page(url: str) -> str:
        """A web page (documentation) as plain Markdown text, up to 12,000 characters."""
        if urlparse(url).scheme not in ("http", "https"):
            raise ToolError("give an http(s) URL")
        r = web.get(url)
        kind = r.headers.get("content-type", "")
        if "html" in kind:
            import html2text

            conv = html2text.HTML2Text()
            conv.ignore_images = True
            conv.body_width = 0
            text = conv.handle(r.text)
        elif kind.startswith("text/") or "json" in kind:
            text = r.text
        else:
            raise ToolError(f"{url} is {kind or 'not text'}; fetch_page reads text pages only")
        if len(text) > PAGE_CHARS:
            text = text[:PAGE_CHARS] + f"\n[... {len(text) - PAGE_CHARS} characters cut]"
        return text

    def search_github_code(query: str, limit: int = 5) -> list[dict[str, str]]:
        """Search code on GitHub (needs GITHUB_TOKEN); returns repository, path and URL of each match."""
        token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
        if not token:
            raise ToolError(
                "GitHub code search needs a token: set GITHUB_TOKEN (any classic or fine-grained token)"
            )
        r = web.get(
            f"{ep.github_api}/search/code",
            params={"q": query, "per_page": max(1, min(int(limit), 20))},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
        )
        return [
            {
                "repository": item["repository"]["full_name"],
                "path": item["path"],
                "url": item.get("html_url", ""),
            }
            for item in r.json().get("items", [])
        ]

    return [
        make_tool(search_papers, classify=net("search_papers", "query")),
        make_tool(search_hub, classify=net("search_hub", "query")),
        make_tool(dataset_card, classify=net("dataset_card", "dataset")),
        make_tool(fetch_page, classify=net("fetch_page", "url")),
        make_tool(search_github_code, classify=net("search_github_code", "query")),
    ]
