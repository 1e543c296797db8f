module simpod.dev/hack/images/pause

go 1.25.0
