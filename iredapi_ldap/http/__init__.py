"""Falcon resources and middleware: parse parameters, call a service, set the reply."""
