"""The annotation web app: pose labels and behavior timelines in any browser."""

from etholoop.annotate.app import create_app
from etholoop.annotate.server import serve, serve_in_background

__all__ = ["create_app", "serve", "serve_in_background"]
