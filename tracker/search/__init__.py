"""Search: words across the records a reader may see, from an index the app keeps."""
