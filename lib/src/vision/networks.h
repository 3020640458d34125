// The dlib network definitions, all in one place: the two face recognizers
// (ResNet-29 and DenseNet) and the MMOD face detector. networks.cc loads them
// and rebuilds the recognizers on OpenCV's dnn module; tests use the types to
// write model files of their own.
#pragma once

#include <dlib/dnn.h>

#include "faceatt/pipeline.h"

namespace faceatt {

// ---- dlib's ResNet-29 face recognizer (dlib_face_recognition_resnet_model_v1.dat,
// 99.38% on LFW), as defined in dlib's dnn_face_recognition_ex.cpp; batch norm is
// replaced by affine layers for inference.
namespace resnet {
using namespace dlib;
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;
template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;
template <int N, typename SUBNET>
using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET>
using ares_down = relu<residual_down<block, N, affine, SUBNET>>;
template <typename SUBNET>
using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET>
using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET>
using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET>
using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET>
using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;
using net_type = loss_metric<fc_no_bias<
    128,
    avg_pool_everything<alevel0<alevel1<alevel2<alevel3<alevel4<max_pool<
        3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<kChipSize>>>>>>>>>>>>>;
}  // namespace resnet

// ---- DenseNet-BC face recognizer (face_recognition_densenet_model_v1.dat): growth
// rate 16, dense blocks of 3, 6, 12 and 8 bottleneck layers (BN-ReLU-conv1x1(64)-
// BN-ReLU-conv3x3(16), concatenated onto their input), transitions halving the
// width (BN-ReLU-conv1x1, 2x2 average pool), 7x7/2 stem (padding 3) and 3x3/2 max
// pool (padding 1), final BN-ReLU, global average pool, 128-unit fc without bias.
namespace densenet {
using namespace dlib;
template <typename SUBNET>
using dense_layer = concat2<
    tag1, tag2,
    tag2<con<16, 3, 3, 1, 1, relu<affine<con<64, 1, 1, 1, 1, relu<affine<tag1<SUBNET>>>>>>>>>;
template <int N, typename SUBNET>
using transition = avg_pool<2, 2, 2, 2, con<N, 1, 1, 1, 1, relu<affine<SUBNET>>>>;
template <typename SUBNET>
using block1 = repeat<3, dense_layer, SUBNET>;  // 32 -> 80 channels
template <typename SUBNET>
using block2 = repeat<6, dense_layer, SUBNET>;  // 40 -> 136
template <typename SUBNET>
using block3 = repeat<12, dense_layer, SUBNET>;  // 68 -> 260
template <typename SUBNET>
using block4 = repeat<8, dense_layer, SUBNET>;  // 130 -> 258
using net_type = loss_metric<fc_no_bias<
    128,
    avg_pool_everything<relu<affine<block4<transition<
        130, block3<transition<
                 68, block2<transition<
                         40, block1<add_layer<max_pool_<3, 3, 2, 2, 1, 1>,
                                              relu<affine<add_layer<con_<32, 7, 7, 2, 2, 3, 3>,
                                                                    input_rgb_image>>>>>>>>>>>>>>>>;
}  // namespace densenet

// ---- dlib's MMOD CNN face detector (mmod_human_face_detector.dat), as in
// dlib's dnn_mmod_face_detection_ex.cpp.
namespace mmod {
using namespace dlib;
template <long num_filters, typename SUBNET>
using con5d = con<num_filters, 5, 5, 2, 2, SUBNET>;
template <long num_filters, typename SUBNET>
using con5 = con<num_filters, 5, 5, 1, 1, SUBNET>;
template <typename SUBNET>
using downsampler =
    relu<affine<con5d<32, relu<affine<con5d<32, relu<affine<con5d<16, SUBNET>>>>>>>>>;
template <typename SUBNET>
using rcon5 = relu<affine<con5<45, SUBNET>>>;
using net_type = loss_mmod<
    con<1, 9, 9, 1, 1, rcon5<rcon5<rcon5<downsampler<input_rgb_image_pyramid<pyramid_down<6>>>>>>>>;
}  // namespace mmod

}  // namespace faceatt
