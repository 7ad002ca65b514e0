"""A label read as K one-hot planes beside an image, without building the planes.

The conditional GAN's D reads its label as K extra input channels, plane `label` all
ones and the others zeros (label_planes below), and its first layer convolves all
1 + K channels. Written out that is a convolution over 1 + K channels, whose window
copies and products grow with K: at K = 50 the first layer moves 51 channels for
one channel of image.

The trick: the planes are the same for every image of one label, so their part of
the first layer's output is one fixed map per label,

    conv2d(cat[x, planes(c)], W) = conv2d(x, W[:, :1]) + B[c],
    B[k] = conv2d(ones(1, 1, H, W), W[:, 1 + k])            (C_out, Ho, Wo), k = 0..K-1

(the ones plane with the convolution's zero padding around it, so B[k] is constant
inside and smaller at the borders, exactly as the planes' windows are). All K maps
come from one small convolution of a single ones image with the K * C_out kernels,
and each image picks its label's map by one matrix product, one_hot(c) @ B. Every
step is a differentiable op (slices, conv2d, matmul), so gradients reach all of W as
before, and R1's double backward goes through the image's convolution alone. The
numbers are those of the written-out convolution up to round-off (other sums in
another order); `planes_conv2d_written_out` is that version, which the tests compare
with, and which D takes where a hook (spectral norm) recomputes its first weight.
"""
import minigan as mg
import minigan.functional as F


def planes_conv2d(images, labels, weight, bias=None, stride=1, padding=0, dilation=1):
    """conv2d(cat[images, one-hot planes of labels], weight, bias, ...) by the trick above.

    images (N, C, H, W), labels (N,) int64 in 0..K-1, weight (C_out, C + K, kh, kw):
    its first C input channels read the images, the other K the planes.
    Returns (N, C_out, Ho, Wo), as the written-out convolution does.
    """
    n, c, h, w = images.shape
    c_out, c_all, kh, kw = weight.shape
    k = c_all - c
    geometry = dict(stride=stride, padding=padding, dilation=dilation)
    image_part = F.conv2d(images, weight[:, :c], bias, **geometry)
    _, _, ho, wo = image_part.shape
    # B: the K maps at once, one ones image through the K * C_out plane kernels
    plane_kernels = weight[:, c:].transpose(0, 1).reshape(k * c_out, 1, kh, kw)
    ones = mg.ones(1, 1, h, w, dtype=images.dtype)
    maps = F.conv2d(ones, plane_kernels, None, **geometry).reshape(k, c_out * ho * wo)
    picked = F.one_hot(labels, k).to(dtype=images.dtype) @ maps  # row n: B[labels[n]]
    return image_part + picked.reshape(n, c_out, ho, wo)


def planes_conv2d_written_out(images, labels, weight, bias=None, stride=1, padding=0,
                              dilation=1):
    """The same as planes_conv2d, as the lesson's math writes it: build the K planes,
    put them beside the images, convolve all C + K channels."""
    _, c, h, w = images.shape
    planes = label_planes(labels, weight.shape[1] - c, h, w).to(dtype=images.dtype)
    return F.conv2d(mg.cat([images, planes], 1), weight, bias, stride, padding, dilation)


def label_planes(labels, num_classes, height, width):
    """(N,) int labels -> (N, num_classes, H, W): plane `label` all ones, the rest zeros
    (how D reads the CGAN's labels and --clusters' clusters beside an image)."""
    onehot = F.one_hot(labels, num_classes).float()
    return onehot.reshape(-1, num_classes, 1, 1).expand(-1, num_classes, height, width)
