"""The aiohttp service: composes diary_core and gosuslugi_adapter; owns HTTP, pages, CLI."""
