"""The API blueprint every feature uses: flask-smorest's, with strict query strings.

webargs drops unknown query parameters by default, whatever the schema says. Here a query
schema's own ``unknown`` decides, as it does for JSON bodies: a StrictSchema refuses a
misspelt filter (``?prodcut=loquat``) with a 422 naming it, instead of silently listing
everything; a schema that must tolerate strangers (the consumer page's tracking parameters)
says ``unknown = EXCLUDE`` itself.
"""

from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser


class _SchemaDecidesParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _SchemaDecidesParser()
