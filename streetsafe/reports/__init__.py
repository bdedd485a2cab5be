"""Report intake: parse (schema) -> snap (snapping) -> cells (H3) -> store (service)."""
