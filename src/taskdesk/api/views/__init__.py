"""JSON views, one module per resource."""
