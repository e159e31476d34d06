"""Small parsers of parameter values shared by the services. Pure."""


def split_words(value):
    """A comma-separated parameter as a list: items stripped, lower-cased, empties and
    repeats dropped, order kept."""
    items = (item.strip().lower() for item in (value or "").split(","))
    return list(dict.fromkeys(item for item in items if item))
