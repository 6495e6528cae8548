"""The HTTP platform (Litestar): the app factory, authentication, admission control, body
decoding and problem details. Feature controllers live in their slices."""
