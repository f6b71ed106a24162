"""Pages people use, served by `bx serve` beside the API: server-rendered (Jinja2) in the GOV.UK
Frontend style, working without JavaScript. They read the published index and the submissions
store through the same services the API uses, in a signed cookie session with CSRF tokens."""
