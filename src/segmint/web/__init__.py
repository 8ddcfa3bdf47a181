"""The service: a JSON API and a no-code web app over a workspace (``segmint serve``).

::

    from segmint.web import Settings, create_app
    app = create_app(Settings(workspace="retail"))    # an ASGI app (FastAPI)

Nothing is built at import: the app, its settings and its state come from the factory.
"""

from segmint.web.app import create_app
from segmint.web.settings import Settings

__all__ = ["Settings", "create_app"]
