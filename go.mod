module github.com/bluezone-vn/bluezone

go 1.26.8

require (
	github.com/google/go-cmp v0.7.0
	google.golang.org/protobuf v1.36.12
)
