"""Images in, tensors out: decoding (images), model input (preprocess), datasets on disk (folders) and the
built-in demo data (demo). This face hands their public names on, so ``engine.data.X`` reads as before."""
from __future__ import annotations

from inception_studio.core.spec import IMAGENET_MEAN, IMAGENET_STD
from inception_studio.engine.data.demo import DEMO_CLASSES, DEMO_VERSION, demo_data_dir, iter_demo_samples, make_demo_folder
from inception_studio.engine.data.folders import FolderScan, ImageDataset, scan_image_folder, stratified_split
from inception_studio.engine.data.images import IMAGE_EXTENSIONS, ImageSource, is_image_path, load_image
from inception_studio.engine.data.preprocess import INTERPOLATIONS, Preprocess, tensor_to_display

__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "DEMO_CLASSES", "DEMO_VERSION", "demo_data_dir", "iter_demo_samples",
    "make_demo_folder", "FolderScan", "ImageDataset", "scan_image_folder", "stratified_split", "IMAGE_EXTENSIONS",
    "ImageSource", "is_image_path", "load_image", "INTERPOLATIONS", "Preprocess", "tensor_to_display",
]
