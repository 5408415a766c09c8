"""``blendsearch serve``: an HTTP API and a search + score-debug web page over one index.

    from blendsearch.serve import ServeSettings, create_app
    app = create_app("shop-index", ServeSettings(api_key="secret", image_root="examples/shop"))

FastAPI and uvicorn are imported only by this package, never by ``import blendsearch``.
"""

from blendsearch.serve.app import create_app
from blendsearch.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]
