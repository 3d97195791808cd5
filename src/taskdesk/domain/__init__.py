"""Operations that change data, shared by the web UI and the JSON API.

Views never write rows themselves: they call these functions, which validate input with the
schemas in :mod:`taskdesk.domain.schemas`, enforce the data rules (numbering, versions,
last-manager protection) and write activity entries. Nothing here imports Pyramid or WebOb.
"""
