"""The API's handlers by area; each module lists its endpoints in ``ENDPOINTS``."""
