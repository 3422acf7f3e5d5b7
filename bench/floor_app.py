"""The framework floor: the least a Flask app can do per request, served like eventreg.

Every figure in the results is also given as a ratio to this app's throughput, measured in the
same run under the same gunicorn configuration, so that the numbers travel between machines.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    """A small JSON document, as the API's smallest answers are."""
    return {"hello": "world"}
