import numpy as np
import pytest

from videos.studio.yuv import Yuv420Frame, even_box, rgb_to_yuv420


def test_known_colours_convert_to_bt709_limited_range():
    colours = np.array([[[0, 0, 0], [255, 255, 255]], [[255, 0, 0], [0, 0, 255]]], np.uint8)
    black = rgb_to_yuv420(np.tile(colours[0, 0], (2, 2, 1)))
    white = rgb_to_yuv420(np.tile(colours[0, 1], (2, 2, 1)))
    red = rgb_to_yuv420(np.tile(colours[1, 0], (2, 2, 1)))
    assert (black[0] == 16).all() and (black[1] == 128).all() and (black[2] == 128).all()
    assert (white[0] == 235).all() and (white[1] == 128).all()
    # BT.709 red: Y 63, Cb 102, Cr 240 (ITU-R BT.709 table, 8-bit)
    assert (int(red[0][0, 0]), int(red[1][0, 0]), int(red[2][0, 0])) == (63, 102, 240)


def test_chroma_is_the_mean_of_each_2x2_block():
    rgb = np.zeros((2, 4, 3), np.uint8)
    rgb[:, 2:] = 255  # right block white, left block black
    y, u, v = rgb_to_yuv420(rgb)
    assert y.shape == (2, 4) and u.shape == (1, 2) and v.shape == (1, 2)
    assert list(y[0]) == [16, 16, 235, 235]


def test_paste_writes_all_three_planes_at_even_offsets():
    frame = Yuv420Frame(width=8, height=4)
    frame.buffer[:] = 0
    frame.paste(rgb_to_yuv420(np.full((2, 2, 3), 255, np.uint8)), x=4, y=2)
    assert frame.y[2:4, 4:6].min() == 235 and frame.y[:2].max() == 0
    assert frame.u[1, 2] == 128 and frame.u[0, 0] == 0


def test_odd_regions_are_refused_and_boxes_grow_to_even_edges():
    with pytest.raises(ValueError, match="even"):
        rgb_to_yuv420(np.zeros((3, 4, 3), np.uint8))
    assert even_box((581, 7, 600, 9), width=854, height=480) == (580, 6, 600, 10)
