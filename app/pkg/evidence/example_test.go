package evidence_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"

	"github.com/cityops/cityops/app/pkg/evidence"
)

// A thumbnail is refused as evidence; the platform turns the error into its
// API error with Describe.
func ExampleDescribe() {
	ctx := context.Background()
	store, err := evidence.Open(ctx, "mem://", evidence.Config{})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	var thumb bytes.Buffer
	_ = png.Encode(&thumb, image.NewGray(image.Rect(0, 0, 50, 50)))
	_, err = store.Put(ctx, evidence.PutInput{
		TenantCode: "450103",
		Kind:       evidence.KindBefore,
		FileName:   "thumb.png",
		Reader:     &thumb,
	})
	reason, zh, en := evidence.Describe(err)
	fmt.Println(reason)
	fmt.Println(zh)
	fmt.Println(en)
	// Output:
	// ATTACHMENT_DIMENSIONS
	// 图片尺寸 50×50 过小，至少需要 200×200 像素，无法作为取证照片
	// the image is 50×50 pixels; at least 200×200 are needed for evidence
}
