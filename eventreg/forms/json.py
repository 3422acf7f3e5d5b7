"""JSON request bodies as validated forms: the API checks input exactly as the web forms do."""

from functools import cache
from typing import Any

from flask import abort, jsonify, make_response, request
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField
from wtforms.fields.core import UnboundField


def json_object() -> dict[str, Any]:
    """The request body as a JSON object; 415 when it is not JSON, 400 when it is malformed."""
    if not request.is_json:
        abort(415, description="Send the body as JSON with Content-Type: application/json.")
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        abort(400, description="The JSON is nested too deeply.")
    if not isinstance(payload, dict):
        abort(400, description="The body must be a JSON object.")
    return payload


def form_from_json(form_class, payload: dict[str, Any]):
    """Build a form from JSON so that the API validates exactly as the web form does.

    Returns the form and the type errors found before validation (e.g. a number where text
    belongs); booleans must be JSON true or false.
    """
    field_types = _field_types(form_class)
    type_errors: dict[str, list[str]] = {}
    formdata = MultiDict()
    for name, value in payload.items():
        field_class = field_types.get(name)
        if field_class is None or name == "csrf_token":
            continue
        is_boolean = issubclass(field_class, BooleanField)
        if is_boolean and isinstance(value, bool):
            if value:
                formdata[name] = "y"
        elif is_boolean and value is not None:
            type_errors[name] = ["Must be true or false."]
        elif isinstance(value, str):
            formdata[name] = value
        elif value is not None:
            type_errors[name] = ["Must be a string."]
    return form_class(formdata=formdata, meta={"csrf": False}), type_errors


@cache
def _field_types(form_class) -> dict[str, type]:
    """The form's field classes by name, read off the class without building a form."""
    return {
        name: attribute.field_class
        for name in dir(form_class)
        if isinstance(attribute := getattr(form_class, name), UnboundField)
    }


def form_from_body(form_class):
    """The JSON body as a validated form; 415/400 when it is not a JSON object, 422 on errors."""
    form, type_errors = form_from_json(form_class, json_object())
    form.validate()
    errors = {**form.errors, **type_errors}
    if errors:
        messages = {name: [str(message) for message in found] for name, found in errors.items()}
        abort(make_response(jsonify(errors=messages), 422))
    return form
