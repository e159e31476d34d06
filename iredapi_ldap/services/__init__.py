"""The rules of the API, independent of HTTP. Each service takes the caller as an argument."""
