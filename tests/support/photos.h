// Photos from ../shared/faces (paths under FacesDir()) that the server and
// old-client tests share, named by what they show.
#pragma once

#include <string>

namespace faceatt::testing::photos {

inline const std::string kObamaA = "people/face_recognition/obama/obama.jpg";
inline const std::string kObamaB = "people/face_recognition/obama/obama1.jpg";
inline const std::string kObamaProbe = "people/face_recognition/obama/obama2.jpg";
inline const std::string kObamaProbe2 = "people/face_recognition/obama/obama-1080p.jpg";
inline const std::string kBiden = "people/face_recognition/biden/biden2.jpg";
inline const std::string kBidenProbe = "people/face_recognition/biden/biden.jpg";
inline const std::string kStranger = "single/compreface__einstein.jpeg";
inline const std::string kNoFace = "noface/dlib__dog.jpg";
inline const std::string kGroup = "group/face-api.js__bbt1.jpg";

}  // namespace faceatt::testing::photos
